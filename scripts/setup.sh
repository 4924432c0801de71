#!/bin/sh
# Installs every Debian package autocompress needs to build and test, then configures and builds.
# Idempotent: packages already present are not reinstalled and `apt-get update` runs only when
# something is missing. Must run as root on a fresh Debian machine (or with sudo available).
#   scripts/setup.sh            install + build (Release) into ./build
#   scripts/setup.sh --deps     install packages only
set -eu

PKGS="build-essential cmake pkg-config libprotobuf-c-dev protobuf-c-compiler libyaml-dev \
libopenblas-dev libjpeg62-turbo-dev libpng-dev libjansson-dev check libonnx-testdata time"
# Node.js (with npm) is only for the ONNX Runtime test oracle. Some images ship a nodejs build that
# bundles npm and conflicts with Debian's npm package, so ask for npm only when the command is absent.
command -v npm >/dev/null 2>&1 || PKGS="$PKGS nodejs npm"

missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    echo "setup: installing$missing" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

[ "${1:-}" = "--deps" ] && exit 0

cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${AC_CMAKE_FLAGS:-} >/dev/null
cmake --build build -j"$(nproc)"
