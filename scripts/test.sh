#!/usr/bin/env bash
# The whole test suite, as CI runs it: unit, media and end-to-end tests (swift test), then the farm tests over
# real NFS (qemu guest), the container tests (podman) and the Slurm test (a one-node cluster on localhost). Assumes scripts/setup.sh has run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
t=$(date +%s); swift build; swift test; echo "== swift test took $(( $(date +%s) - t )) s"
for t in scripts/nfs/test-farm.sh scripts/containers/test-containers.sh scripts/slurm/test-slurm.sh; do
  echo "== $t"; s=$(date +%s); bash "$t"; echo "== $t took $(( $(date +%s) - s )) s"
done
echo "all tests passed"
