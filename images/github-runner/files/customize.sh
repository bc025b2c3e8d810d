#!/bin/bash
# Runs INSIDE the guest image, as root, through `virt-customize --run` (see ../Containerfile).
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive

apt-get update
apt-get install -y --no-install-recommends cloud-init openssh-server ca-certificates curl git jq sudo util-linux
# Unattended upgrades would race a job's own apt-get on a freshly booted VM.
apt-get purge -y unattended-upgrades || true

# The runner user (cloud-init may add the authorised key; see k8s/examples/runner-vm-pool.yaml).
# '*' (no password) rather than a locked '!', so sshd accepts key logins whatever UsePAM says.
id runner >/dev/null 2>&1 || useradd --create-home --uid 1001 --shell /bin/bash runner
usermod -p '*' runner

overlay=/var/tmp/blip-overlay
install -d -m 0755 /home/runner/actions-runner
cp -a "$overlay/actions-runner/." /home/runner/actions-runner/
install -m 0755 "$overlay/files/run.sh" /home/runner/actions-runner/run.sh
chown -R runner:runner /home/runner

# The agent's native dependencies (libicu, libssl, ...).
/home/runner/actions-runner/bin/installdependencies.sh

install -m 0644 "$overlay/files/sshd-blip.conf" /etc/ssh/sshd_config.d/50-blip.conf
install -m 0644 "$overlay/files/blip-runner.tmpfiles.conf" /etc/tmpfiles.d/blip-runner.conf
install -m 0644 "$overlay/files/blip-runner-exit.path" /etc/systemd/system/blip-runner-exit.path
install -m 0644 "$overlay/files/blip-runner-exit.service" /etc/systemd/system/blip-runner-exit.service
# sshd itself needs nothing: Ubuntu 24.04 starts it through ssh.socket (enabling ssh.service too
# would race the socket for port 22).
systemctl enable blip-runner-exit.path

# Every VM must get its own identity: host keys, machine-id and cloud-init state are made at first boot.
rm -f /etc/ssh/ssh_host_*
truncate -s 0 /etc/machine-id
cloud-init clean --logs
rm -rf "$overlay"
apt-get clean
rm -rf /var/lib/apt/lists/*
