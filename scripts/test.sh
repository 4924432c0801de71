#!/bin/sh
# The whole test suite on a fresh Debian machine: installs packages, builds with -Werror into
# build-test/, runs every CTest test (Check suites, ONNX Runtime oracle, benchmarks' checks).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh --deps
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Release -DAC_WERROR=ON >/dev/null
cmake --build build-test -j"$(nproc)"
cd build-test
ctest --output-on-failure -j"$(nproc)" "$@"
