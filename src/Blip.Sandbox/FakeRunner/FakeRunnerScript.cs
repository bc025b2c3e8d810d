namespace Blip.Sandbox.FakeRunner;

/// <summary>
/// The <c>run.sh</c> of sandbox VMs (installed as <c>/home/runner/actions-runner/run.sh</c>): a stand-in
/// for actions/runner that speaks the GitHub emulator's <c>/_runner/</c> protocol with bash, base64 and curl.
/// </summary>
/// <remarks>
/// It takes the JIT config from <c>ACTIONS_RUNNER_INPUT_JITCONFIG</c> (preferred, unset at once) or
/// <c>--jitconfig CFG</c>; refuses to start without a valid, unused one; redeems it; waits for ONE job
/// (any queued job of its repo its labels cover — GitHub's choice, not the runner's); works on it for the
/// job's duration, stopping early when the job is cancelled; completes it and exits. It writes
/// <c>$BLIP_VM_DIR/runner.log</c> (lines such as <c>took job 10000000002 (5s)</c>) and, on every exit,
/// <c>$BLIP_VM_DIR/runner-exited</c> holding the exit code. The JIT config and the session token never
/// reach a file or a command line: request bodies go to curl on stdin.
/// Exit codes: 0 done (or job cancelled), 2 no or malformed JIT config, 3 JIT config refused,
/// 4 runner removed before it got a job, 5 emulator unreachable, 10 a runner already runs on this VM (its lock, a flock
/// on <c>$BLIP_VM_DIR</c>, is held; nothing else happens), 7 the emulator refused the runner's version as outdated (as the
/// image's run.sh exits when GitHub does; then no <c>runner-exited</c> is written: the VM stays up, as that run.sh leaves it).
/// It reports <c>$BLIP_RUNNER_VERSION</c> when it redeems, and creates the file <c>$BLIP_RUNNER_READY</c> names (if any) once
/// its runner is online, as the image's run.sh does when the listener listens: the start command waits for one or the exit.
/// </remarks>
public static class FakeRunnerScript
{
    public const string LogFileName = "runner.log";
    public const string ExitedFileName = "runner-exited";

    public static string Content { get; } = """
        #!/usr/bin/env bash
        # Blip sandbox fake runner (see Blip.Sandbox.FakeRunner.FakeRunnerScript). Needs bash, base64, curl.
        set -u

        # Read the JIT config first and drop it from the environment, so no child inherits it.
        cfg="${ACTIONS_RUNNER_INPUT_JITCONFIG:-}"
        unset ACTIONS_RUNNER_INPUT_JITCONFIG

        vm_dir="${BLIP_VM_DIR:-$PWD}"
        log_file="$vm_dir/runner.log"

        log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >>"$log_file"; }

        # One runner per VM, as the image's run.sh (images/github-runner/files/run.sh): a second start (a retried SSH
        # command) finds the lock held and exits 10 at once, before anything that marks the runner as exited. The lock is
        # on the VM's directory itself, so no file is flocked (.NET readers of the VM's files take shared flocks).
        exec 9<"$vm_dir"
        if ! flock -n 9; then
            cfg=""
            log "a runner is already running on this VM; refusing a second start"
            exit 10
        fi
        # Single use, as the image's run.sh: once a runner has exited the VM is powering off; a second runner would take
        # a job and die with the VM.
        if [ -e "$vm_dir/runner-exited" ]; then
            cfg=""
            log "a runner already ran on this VM (it is powering off); refusing a second start"
            exit 10
        fi

        keep_vm=""
        on_exit() {
            local code="$1"
            log "exit $code"
            [ -n "$keep_vm" ] || printf '%s\n' "$code" >"$vm_dir/runner-exited"
        }
        trap 'on_exit $?' EXIT
        trap 'log "terminated"; exit 143' TERM INT

        while [ $# -gt 0 ]; do
            case "$1" in
                --jitconfig)
                    if [ $# -lt 2 ]; then log "refusing to start: --jitconfig needs a value"; exit 2; fi
                    [ -n "$cfg" ] || cfg="$2"
                    shift 2 ;;
                --jitconfig=*)
                    [ -n "$cfg" ] || cfg="${1#--jitconfig=}"
                    shift ;;
                *)
                    log "ignoring an unknown argument"
                    shift ;;
            esac
        done

        if [ -z "$cfg" ]; then
            log "refusing to start: no JIT config (ACTIONS_RUNNER_INPUT_JITCONFIG or --jitconfig)"
            exit 2
        fi

        # Format (opaque to everyone else): base64 of "blip-jit-v1 <emulator-url> <runner-id> <secret>".
        if ! decoded="$(printf '%s' "$cfg" | base64 -d 2>/dev/null)"; then
            cfg=""
            log "refusing to start: the JIT config is not valid base64"
            exit 2
        fi
        cfg=""
        case "$decoded" in
            "blip-jit-v1 "*) ;;
            *) decoded=""; log "refusing to start: not a JIT config of this sandbox"; exit 2 ;;
        esac
        rest="${decoded#blip-jit-v1 }"
        decoded=""
        api="${rest%% *}"; rest="${rest#* }"
        runner_id="${rest%% *}"; secret="${rest#* }"
        rest=""
        case "$api" in http://*|https://*) ;; *) log "refusing to start: malformed JIT config"; exit 2 ;; esac
        case "$runner_id" in ''|*[!0-9]*) log "refusing to start: malformed JIT config"; exit 2 ;; esac
        case "$secret" in ''|*[!A-Za-z0-9]*) log "refusing to start: malformed JIT config"; exit 2 ;; esac

        # post PATH BODY [TIMEOUT]: POSTs BODY through curl's stdin; sets http_status and http_body.
        http_status=000
        http_body=""
        post() {
            local out
            if ! out="$(printf '%s' "$2" | curl -q -sS --noproxy "*" --max-time "${3:-30}" -H 'Content-Type: text/plain' \
                    --data-binary @- -w '\n%{http_code}' "$api$1" 2>>"$log_file")"; then
                http_status=000
                http_body=""
                return 1
            fi
            http_status="${out##*$'\n'}"
            http_body="${out%$'\n'*}"
            [ "$http_body" != "$out" ] || http_body=""
            return 0
        }

        for attempt in 1 2 3 4 5; do
            post /_runner/redeem "$runner_id $secret ${BLIP_RUNNER_VERSION:-}" 30 && break
            sleep 1
        done
        secret=""
        case "$http_status" in
            200) ;;
            000) log "refusing to start: cannot reach $api to redeem the JIT config"; exit 3 ;;
            403) case "$http_body" in
                    *"is deprecated and cannot receive messages"*) log "refused: $http_body"; keep_vm=1; exit 7 ;;
                 esac
                 log "refusing to start: JIT config refused ($http_status: $http_body)"; exit 3 ;;
            *) log "refusing to start: JIT config refused ($http_status: $http_body)"; exit 3 ;;
        esac
        if [ -n "${BLIP_RUNNER_READY:-}" ]; then : >"$BLIP_RUNNER_READY" 2>/dev/null; fi
        session="${http_body%% *}"
        runner_name="${http_body#* }"
        log "runner $runner_name (id $runner_id) online at $api; waiting for a job"

        # Wait for one job, as long as it takes: an idle runner just waits.
        failures=0
        while :; do
            if ! post /_runner/acquire "$session" 60; then
                failures=$((failures + 1))
                if [ "$failures" -ge 120 ]; then log "giving up: $api unreachable"; exit 5; fi
                sleep 1
                continue
            fi
            failures=0
            case "$http_status" in
                200) break ;;
                204) ;;
                410) log "runner $runner_name was removed before it got a job"; exit 4 ;;
                *) log "acquire answered $http_status; retrying"; sleep 1 ;;
            esac
        done
        job="${http_body#job }"
        job_id="${job%% *}"
        duration="${job#* }"
        case "$duration" in ''|*[!0-9]*) duration=0 ;; esac
        log "took job $job_id (${duration}s)"

        elapsed=0
        while [ "$elapsed" -lt "$duration" ]; do
            sleep 1
            elapsed=$((elapsed + 1))
            if post /_runner/status "$session" 10; then
                if [ "$http_status" = 200 ] && [ "$http_body" = cancelled ]; then
                    log "job $job_id was cancelled after ${elapsed}s"
                    exit 0
                fi
                if [ "$http_status" = 410 ]; then
                    log "job $job_id: runner $runner_name was removed after ${elapsed}s"
                    exit 0
                fi
            fi
        done

        for attempt in 1 2 3 4 5; do
            post /_runner/complete "$session" 30 && break
            sleep 1
        done
        case "$http_status" in
            200) log "completed job $job_id (success)" ;;
            409) log "job $job_id was cancelled before it completed" ;;
            000) log "could not report job $job_id: $api unreachable"; exit 5 ;;
            *) log "completing job $job_id answered $http_status" ;;
        esac
        exit 0

        """;
}
