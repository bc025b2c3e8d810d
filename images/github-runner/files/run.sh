#!/bin/bash
# Blip's run.sh, installed as /home/runner/actions-runner/run.sh in place of the agent's own.
#
# The controller starts it over SSH as `nohup ./run.sh` with the sealed JIT config in the
# environment variable ACTIONS_RUNNER_INPUT_JITCONFIG (never on a command line, never in a file).
# It runs the ephemeral runner ONCE, then asks the VM to power off, so the VMI reaches phase
# Succeeded and the controller sees the runner is done without any API call.
#
# Self-update: the agent's own run.sh loops to apply updates (exit codes 3 and 4). This script
# runs bin/Runner.Listener directly and never restarts it, so an update is never applied; the VM
# powers off instead and the exit code is logged. Keep RUNNER_VERSION in the Containerfile current.
#
# Outdated runner: GitHub refuses a runner older than its minimum ("Runner version vX is deprecated
# and cannot receive messages"; Runner.Listener exits 1). This script exits 7 for it and leaves the VM
# up: the controller holds it (a runner_outdated configuration fault) instead of churning VMs that
# boot, refuse and power off. Ready: when the listener says "Listening for Jobs", the file named by
# BLIP_RUNNER_READY (set by the controller's start command) is created; the command waits for it or the exit.
set -u

dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Made at boot by tmpfiles.d, owned by runner. (BLIP_RUNNER_STATE_DIR exists for the image's tests;
# nothing sets it in the VM.)
state="${BLIP_RUNNER_STATE_DIR:-/run/blip-runner}"
marker="$state/exited"            # watched by blip-runner-exit.path (root): its appearance powers off

say() { logger -t blip-runner -- "$*" 2>/dev/null; echo "blip-runner: $*" >&2; }

finish() {
  say "runner exited with code $1; powering the VM off"
  echo "$1" > "$marker"
  exit "$1"
}

# One runner per VM: a second start (e.g. a retried SSH command) must not share the runner dir.
# Exit 10 says exactly that: the controller reads it as "the runner runs" and never gives the VM up for it.
exec 9>"$state/lock" || { say "cannot open $state/lock"; exit 1; }
if ! flock -n 9; then
  say "a runner is already running on this VM; refusing a second start"
  exit 10
fi
# Single use: once a runner has exited the VM is powering off, and a runner started in that window (a controller that
# restarted and did not know the first one started) would take a job and die with the VM mid-job. Same answer: 10.
if [ -e "$marker" ]; then
  say "a runner already ran on this VM (it is powering off); refusing a second start"
  exit 10
fi

if [ -z "${ACTIONS_RUNNER_INPUT_JITCONFIG:-}" ] && [[ " $* " != *" --jitconfig "* ]]; then
  say "no JIT config (ACTIONS_RUNNER_INPUT_JITCONFIG or --jitconfig); nothing to run"
  finish 2
fi

trap 'finish 143' TERM INT HUP

cd "$dir" || finish 1
say "starting the ephemeral JIT runner"
# Runner.Listener reads ACTIONS_RUNNER_INPUT_JITCONFIG itself; its output goes to the journal
# (journalctl -t actions-runner), never to the SSH session.
if [ -S /run/systemd/journal/stdout ] && command -v systemd-cat >/dev/null 2>&1; then journal() { systemd-cat -t actions-runner; }; else journal() { cat >/dev/null; }; fi
outdated="$state/outdated"
rm -f "$outdated"
watch_output() {
  local line
  while IFS= read -r line; do
    case "$line" in
      *"Listening for Jobs"*) [ -z "${BLIP_RUNNER_READY:-}" ] || : >"$BLIP_RUNNER_READY" 2>/dev/null ;;
      *"is deprecated and cannot receive messages"*) : >"$outdated" ;;
    esac
    printf '%s\n' "$line"
  done
}
"$dir/bin/Runner.Listener" run "$@" 2>&1 | watch_output | journal
rc=${PIPESTATUS[0]}
if [ -e "$outdated" ]; then
  version="$("$dir/bin/Runner.Listener" --version 2>/dev/null | head -n 1)"
  say "GitHub refused runner ${version:-?} as outdated (code $rc); rebuild the image with a newer RUNNER_VERSION. The VM stays up."
  exit 7
fi
case "$rc" in
  3|4) say "the runner wanted to self-update (code $rc); self-update is disabled, rebuild the image with a newer RUNNER_VERSION" ;;
esac
finish "$rc"
