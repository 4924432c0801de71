#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ORT oracle for the quantizer. For each shared model and both modes (ort, tensorrt),
# tools/qdq_make calibrates on the model's reference batch with our engine and writes the QDQ
# model; then
#   1. ONNX Runtime must load it (ort_run.js info);
#   2. ORT's outputs on the QDQ model are compared with ORT's FP32 outputs (cosine, SQNR
#      printed; cosine must exceed 0.99);
#   3. our engine (`autocompress infer`) runs the same QDQ model and is compared with ORT.
#
# What step 3 asserts, and why. ORT fuses DQ -> op -> Q into integer kernels (QLinearConv, ...)
# whose requantization rounds acc * (s_in s_w / s_out) once; our engine runs the QDQ graph as
# fake-quant in float and rounds y / s_out. Both are exact up to float rounding, so a tensor
# code differs by at most one step, and only where the value sits on a rounding tie; but such a
# one-step difference in a hidden layer moves later layers, so the model outputs (float, after
# several more layers or after decode arithmetic, in their own units) are not bounded by one
# step of any single scale. We assert what does hold, per element:
#   |ours - ort| <= max |ort - fp32|   (the engines differ less than quantization itself moves
#                                       any element), and
#   SQNR(ours vs ort) >= SQNR(ort vs fp32) + 3 dB,
# and print the share of elements within one step of the last activation scale feeding each
# output (qdq_make step), the per-element "one quantization step" view.
#
# Environment (set by CTest): AC_SHARED_DIR, AC_QDQ_MAKE (the tool), AC_CLI (autocompress),
# optional ORT_NODE_DIR. Exits 0 with "skipped" when the shared folder, node or ORT is missing.
set -u

shared="${AC_SHARED_DIR:-}"
tool="${AC_QDQ_MAKE:-}"
cli="${AC_CLI:-}"
if [ -z "$shared" ] || [ ! -d "$shared/models" ]; then
    echo "ort_qdq: skipped (shared folder '${shared}' not found)"
    exit 0
fi
if ! command -v node >/dev/null 2>&1; then
    echo "ort_qdq: skipped (node is not installed)"
    exit 0
fi
if [ -z "$tool" ] || [ ! -x "$tool" ] || [ -z "$cli" ] || [ ! -x "$cli" ]; then
    echo "ort_qdq: FAIL: qdq_make or autocompress not found ('$tool', '$cli')"
    exit 1
fi
ort_dir="$shared/tools/ort"
if ! sh "$ort_dir/setup.sh" >/dev/null 2>&1; then
    echo "ort_qdq: skipped (ONNX Runtime could not be installed by $ort_dir/setup.sh)"
    exit 0
fi
run_js="$ort_dir/ort_run.js"

work="$(mktemp -d "${TMPDIR:-/tmp}/ac_ort_qdq.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# number after `key` in a line of "key value key value ..."
field() { echo "$1" | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

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
    if ! err="$(node "$run_js" run "$model" "$input" --out "$work/$name.fp32" 2>&1)"; then
        echo "$name: FAIL: ORT cannot run the FP32 model: $err"
        failed=$((failed + 1))
        continue
    fi
    for mode in ort tensorrt; do
        tag="$name/$mode"
        out="$work/$name.$mode"
        if ! err="$("$tool" quantize "$model" "$input" "$out" --mode "$mode" 2>&1)"; then
            echo "$tag: FAIL: qdq_make: $err"
            failed=$((failed + 1))
            continue
        fi
        q="$out/model.onnx"
        if ! info="$(node "$run_js" info "$q" 2>&1)"; then
            echo "$tag: FAIL: ORT cannot load the QDQ model: $info"
            failed=$((failed + 1))
            continue
        fi
        if ! err="$(node "$run_js" run "$q" "$input" --out "$out.ort" 2>&1)"; then
            echo "$tag: FAIL: ORT cannot run the QDQ model: $err"
            failed=$((failed + 1))
            continue
        fi
        if ! err="$("$cli" infer "$q" "$input" --out "$out.ours" 2>&1)"; then
            echo "$tag: FAIL: autocompress infer: $err"
            failed=$((failed + 1))
            continue
        fi
        steps="$("$tool" step "$q")"
        ok=1
        n_out=0
        for o in "$work/$name.fp32"/output_*.pb; do
            [ -f "$o" ] || continue
            n_out=$((n_out + 1))
            k="$(basename "$o" .pb)"
            step="$(echo "$steps" | awk -v k="$k" '$1 == k {print $2}')"
            vs_fp32="$("$tool" compare "$o" "$out.ort/$k.pb")" || { ok=0; echo "$tag: FAIL: $k"; continue; }
            cosv="$(field "$vs_fp32" cosine)"
            sq_fp32="$(field "$vs_fp32" sqnr_db)"
            max_fp32="$(field "$vs_fp32" max_abs)"
            vs_ort="$("$tool" compare "$out.ort/$k.pb" "$out.ours/$k.pb" --step "${step:-0}")"
            max_ort="$(field "$vs_ort" max_abs)"
            sq_ort="$(field "$vs_ort" sqnr_db)"
            echo "$tag $k: ORT QDQ vs FP32: $vs_fp32 | ours vs ORT: $vs_ort"
            if ! awk -v c="$cosv" 'BEGIN {exit !(c > 0.99)}'; then
                echo "$tag: FAIL: $k cosine $cosv <= 0.99 (ORT, QDQ vs FP32)"
                ok=0
            fi
            if ! awk -v a="$max_ort" -v b="$max_fp32" -v s1="$sq_ort" -v s2="$sq_fp32" \
                'BEGIN {exit !(a <= b && (s1 == "inf" || s1 + 0 >= s2 + 3))}'; then
                echo "$tag: FAIL: $k ours vs ORT (max $max_ort, $sq_ort dB) not within the" \
                     "quantization error (max $max_fp32, $sq_fp32 dB + 3)"
                ok=0
            fi
        done
        if [ "$n_out" -eq 0 ]; then
            echo "$tag: FAIL: no outputs"
            ok=0
        fi
        if [ "$ok" -eq 1 ]; then
            echo "$tag: ok (ORT loads it: $info)"
            checked=$((checked + 1))
        else
            failed=$((failed + 1))
        fi
    done
done

echo "ort_qdq: $checked model/mode pairs ok, $failed failed"
[ "$failed" -eq 0 ]
