#!/bin/sh
# One click on a fresh Debian machine: install packages, build, run autocompress on the demo
# model shipped in demo/. Until the calibration pipeline lands, the demo is `inspect`.
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
./build/src/cli/autocompress inspect demo/cls_resnet20/model.onnx
