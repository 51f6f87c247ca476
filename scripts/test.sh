#!/usr/bin/env bash
# The whole test suite, as CI runs it: unit, media and end-to-end tests (swift test), then the farm tests over
# real NFS and the container tests when their harnesses are present. Assumes scripts/setup.sh has run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
swift build
swift test
for t in scripts/nfs/test-farm.sh scripts/containers/test-containers.sh; do
  if [ -x "$t" ]; then echo "== $t"; "$t"; fi
done
echo "all tests passed"
