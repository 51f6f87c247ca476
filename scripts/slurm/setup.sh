#!/usr/bin/env bash
# Installs what scripts/slurm/test-slurm.sh needs on Debian 12: Slurm (slurmctld, slurmd, sbatch) and MUNGE.
# Idempotent and quiet; run as root (CI's .ci/run does). Starts nothing: the test runs its own cluster.
set -euo pipefail
missing=""
for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "slurm setup: installing$missing"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The packages enable and start their own daemons where systemd runs; the test needs none of them (it starts a
# cluster under its own configuration, sockets and ports), so they are stopped and left disabled.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now slurmctld slurmd munge >/dev/null 2>&1 || true
fi
