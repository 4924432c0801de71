#!/bin/sh
# One click on a fresh Debian machine: install packages, build, and run autocompress on the demo
# shipped in demo/ (ResNet-20 on Fashion-MNIST): inspect the FP32 model, calibrate on 64
# unlabeled images and write the INT8 QDQ model with its calibration tables and deploy yaml,
# then evaluate FP32 and INT8 on 200 labelled images. (The one-click `autocompress config.yaml`
# replaces these steps when the config issue lands.)
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh
ac=./build/src/cli/autocompress
out=${AC_DEMO_OUT:-demo-out}
$ac inspect demo/cls_resnet20/model.onnx
$ac quantize --model demo/cls_resnet20/model.onnx --data demo/calib --out "$out" --mode ort \
    --method KL
echo "FP32: $($ac eval --model demo/cls_resnet20/model.onnx --task cls \
    --data demo/images/val_list.txt --json)"
echo "INT8: $($ac eval --model "$out/model.onnx" --task cls --data demo/images/val_list.txt \
    --json)"
echo "INT8 model, calibration tables and deploy yaml: $out/"
