#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine for encoda: the libav/SVT-AV1/x264 libraries and tools, then builds.
# Usage: scripts/setup.sh [--release | --deps-only]     (run as root, or with sudo available)
#   --deps-only: install the missing packages and stop (scripts/install.sh uses this before its own build).
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
PKGS="libavformat-dev libavcodec-dev libavutil-dev libswscale-dev libswresample-dev libsvtav1enc-dev libx264-dev zlib1g-dev pkg-config ffmpeg curl"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
[ "${1:-}" = "--deps-only" ] && exit 0
# Tests only from here (not for --deps-only installs).
# strace: CoordinationTests and bench/coordination.sh count the protocol's system calls with it.
if ! dpkg -s strace >/dev/null 2>&1; then
  echo "setup: installing strace"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends strace >/dev/null
fi
# The timeline tests build .otio files with OpenTimelineIO's Python package, from PyPI.
if ! python3 -c "import opentimelineio" 2>/dev/null; then
  echo "setup: installing opentimelineio (pip)"
  python3 -m pip install -q opentimelineio 2>/dev/null || python3 -m pip install -q --break-system-packages opentimelineio \
    || echo "setup: could not install opentimelineio; the timeline tests need it (pip install opentimelineio)" >&2
fi
# The SSIMULACRA 2 validation compares with the reference implementation in PyPI's ssimulacra2 package; VMAF needs an
# ffmpeg built with libvmaf, and the imageio-ffmpeg wheel carries one (Debian's has none).
for mod in ssimulacra2:ssimulacra2 imageio_ffmpeg:imageio-ffmpeg; do
  if ! python3 -c "import ${mod%%:*}" 2>/dev/null; then
    echo "setup: installing ${mod#*:} (pip)"
    python3 -m pip install -q "${mod#*:}" 2>/dev/null || python3 -m pip install -q --break-system-packages "${mod#*:}" \
      || echo "setup: could not install ${mod#*:}; the metric tests need it (pip install ${mod#*:})" >&2
  fi
done
# The deploy/ template tests read the Kubernetes YAML with PyYAML and dry-run the OpenCue outline with PyPI's
# opencue-pyoutline (which imports `packaging` without declaring it), in their own venv: ENCODA_DEPLOY_PYTHON.
DEPLOY_VENV=/opt/encoda-deploy-venv
if ! "$DEPLOY_VENV/bin/python" -c "import yaml, outline.backend.cue" 2>/dev/null; then
  echo "setup: installing pyyaml and opencue-pyoutline into $DEPLOY_VENV (pip)"
  python3 -m venv "$DEPLOY_VENV" 2>/dev/null || { $SUDO apt-get install -y -qq python3-venv >/dev/null && $SUDO python3 -m venv "$DEPLOY_VENV"; }
  $SUDO "$DEPLOY_VENV/bin/pip" install -q pyyaml opencue-pyoutline packaging \
    || echo "setup: could not install opencue-pyoutline; the deploy template tests need it" >&2
fi
# The server's conformance test checks the API against docs/openapi.json with schemathesis, from PyPI.
if ! command -v schemathesis >/dev/null; then
  echo "setup: installing schemathesis (pip)"
  python3 -m pip install -q schemathesis 2>/dev/null || python3 -m pip install -q --break-system-packages schemathesis \
    || echo "setup: could not install schemathesis; the server's conformance test needs it (pip install schemathesis)" >&2
fi
# The web page's browser test drives Debian's Chromium with selenium, the metrics test parses /metrics with
# prometheus_client.
if ! dpkg -s chromium chromium-driver >/dev/null 2>&1; then
  echo "setup: installing chromium chromium-driver"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
for m in selenium:selenium prometheus_client:prometheus-client; do
  if ! python3 -c "import ${m%%:*}" 2>/dev/null; then
    echo "setup: installing ${m#*:} (pip)"
    python3 -m pip install -q "${m#*:}" 2>/dev/null || python3 -m pip install -q --break-system-packages "${m#*:}" \
      || echo "setup: could not install ${m#*:}; the web page and metrics tests need it (pip install ${m#*:})" >&2
  fi
done
export PATH=/opt/swift/usr/bin:$PATH
command -v swift >/dev/null || { echo "setup: swift not found; install Swift 6.x (https://swift.org/install) and put it on PATH" >&2; exit 1; }
if [ "${1:-}" = "--release" ]; then swift build -c release; echo "setup: built .build/release/encoda"
else swift build; echo "setup: built .build/debug/encoda"; fi
