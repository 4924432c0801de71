#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ORT oracle for the ONNX writer: each shared model is read and written back by
# tools/onnx_roundtrip, then ONNX Runtime runs the original and the rewritten model on the
# model's reference input. The outputs must be byte-identical: the writer may reorder or
# re-encode, but must not change what the model computes.
#
# Environment (set by CTest): AC_SHARED_DIR, AC_ONNX_ROUNDTRIP (the tool), optional ORT_NODE_DIR.
# Exits 0 with "skipped" when the shared folder, node or ONNX Runtime is not available.
set -u

. "$(dirname "$0")/oracle_common.sh"
oracle_need_shared_and_node ort_roundtrip
tool="${AC_ONNX_ROUNDTRIP:-}"
if [ -z "$tool" ] || [ ! -x "$tool" ]; then
    echo "ort_roundtrip: FAIL: onnx_roundtrip tool not found (AC_ONNX_ROUNDTRIP='${tool}')"
    exit 1
fi
oracle_setup_ort ort_roundtrip

failed=0
checked=0
for name in cls_resnet20 cls_mobilenetv2 det_yolo seg_unet; do
    dir="$shared/models/$name"
    model="$dir/model.onnx"
    input="$dir/ref/test_data_set_0/input_0.pb"
    if [ ! -f "$model" ] || [ ! -f "$input" ]; then
        echo "$name: skipped (model or reference input missing)"
        continue
    fi
    rewritten="$work/$name.onnx"
    if ! "$tool" "$model" "$rewritten" 2>"$work/$name.err"; then
        echo "$name: FAIL: onnx_roundtrip: $(cat "$work/$name.err")"
        failed=$((failed + 1))
        continue
    fi
    if ! info="$(node "$run_js" info "$rewritten" 2>&1)"; then
        echo "$name: FAIL: ORT cannot load the rewritten model: $info"
        failed=$((failed + 1))
        continue
    fi
    if ! err="$(node "$run_js" run "$model" "$input" --out "$work/$name.orig" 2>&1)"; then
        echo "$name: FAIL: ORT cannot run the original model: $err"
        failed=$((failed + 1))
        continue
    fi
    if ! err="$(node "$run_js" run "$rewritten" "$input" --out "$work/$name.rt" 2>&1)"; then
        echo "$name: FAIL: ORT cannot run the rewritten model: $err"
        failed=$((failed + 1))
        continue
    fi
    n_out=0
    ok=1
    for o in "$work/$name.orig"/output_*.pb; do
        [ -f "$o" ] || continue
        n_out=$((n_out + 1))
        r="$work/$name.rt/$(basename "$o")"
        if ! cmp -s "$o" "$r"; then
            echo "$name: FAIL: $(basename "$o") differs between original and rewritten model"
            ok=0
        fi
    done
    n_rt=$(find "$work/$name.rt" -name 'output_*.pb' | wc -l)
    if [ "$n_out" -eq 0 ] || [ "$n_out" -ne "$n_rt" ]; then
        echo "$name: FAIL: output count differs or is zero ($n_out original, $n_rt rewritten)"
        ok=0
    fi
    if [ "$ok" -eq 1 ]; then
        echo "$name: ok ($n_out outputs identical; $(stat -c %s "$model") -> $(stat -c %s "$rewritten") bytes; info $info)"
        checked=$((checked + 1))
    else
        failed=$((failed + 1))
    fi
done

echo "ort_roundtrip: $checked identical, $failed failed"
[ "$failed" -eq 0 ]
