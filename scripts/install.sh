#!/usr/bin/env bash
# Builds a relocatable release binary of encoda and installs it as $PREFIX/bin/encoda (default /usr/local).
#
# Usage: scripts/install.sh                    (run as root, or with sudo available for a PREFIX you cannot write)
#        PREFIX=$HOME/.local scripts/install.sh
#        scripts/install.sh --with-vmaf        (also an ffmpeg with libvmaf, for --metric vmaf and encoda score)
#
# Swift's standard library, runtime and Foundation are linked in statically (--static-swift-stdlib), so the
# installed binary runs without the Swift toolchain: it needs only Debian 12's libav*, SVT-AV1 and x264 shared
# libraries, which scripts/setup.sh installs with apt when they are missing. Building still needs Swift 6.x
# (on PATH or in /opt/swift). Workers on other machines need the same library versions (`encoda worker` refuses
# a job planned with other encoder versions), so install from the same Debian release there too.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
WITH_VMAF=0
for arg in "$@"; do
  case "$arg" in
    --with-vmaf) WITH_VMAF=1 ;;
    *) echo "install: unknown option $arg (only --with-vmaf)" >&2; exit 64 ;;
  esac
done

scripts/setup.sh --deps-only
export PATH=/opt/swift/usr/bin:$PATH
command -v swift >/dev/null || { echo "install: swift not found; install Swift 6.x (https://swift.org/install) and put it on PATH" >&2; exit 1; }

swift build -c release --static-swift-stdlib --product encoda
BIN="$(swift build -c release --static-swift-stdlib --show-bin-path)/encoda"

# Relocatable means no Swift library is loaded at run time: refuse to install a binary that would need them.
if ldd "$BIN" | grep -E 'libswift|libFoundation|lib_Foundation|libdispatch|libBlocksRuntime|/opt/swift' >&2; then
  echo "install: $BIN still links the Swift libraries above dynamically; it would not run without the toolchain" >&2
  exit 1
fi

SUDO=""
if ! { mkdir -p "$PREFIX/bin" 2>/dev/null && [ -w "$PREFIX/bin" ]; }; then
  [ "$(id -u)" = 0 ] || SUDO=sudo
fi
# Install beside the old binary and rename over it, so a worker starting at this moment never sees half a file.
$SUDO install -m 0755 "$BIN" "$PREFIX/bin/.encoda.install.$$"
$SUDO mv -f "$PREFIX/bin/.encoda.install.$$" "$PREFIX/bin/encoda"
echo "install: installed $PREFIX/bin/encoda ($("$PREFIX/bin/encoda" --version))"
# VMAF needs an ffmpeg built with libvmaf; Debian's has none. The imageio-ffmpeg wheel carries a static one, and
# encoda finds it through python3 when no ffmpeg on PATH has libvmaf.
if [ "$WITH_VMAF" = 1 ]; then
  python3 -m pip install -q imageio-ffmpeg 2>/dev/null || python3 -m pip install -q --break-system-packages imageio-ffmpeg
  echo "install: ffmpeg with libvmaf for encoda: $(python3 -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')"
fi
case ":$PATH:" in *":$PREFIX/bin:"*) ;; *) echo "install: $PREFIX/bin is not on PATH; add it, or call $PREFIX/bin/encoda" ;; esac
