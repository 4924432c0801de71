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
# What step 3 asserts, and why. Our planner (src/runtime/qdq_fuse.c) makes the integer/float
# split ORT makes for these graphs -- the DQ -> op -> Q groups ORT fuses into QLinearConv, QGemm,
# QLinearAdd, ... run with ORT's integer arithmetic; float biases are rounded to int32 first
# (ORT's WeightBiasQuantization); int8 groups are fused only where ORT's QDQS8ToU8 makes them
# uint8 (x86 has no int8 QLinearConv) -- and the float ops around them (bilinear Resize,
# Sigmoid) compute what ORT's kernels compute. The issue's criterion is asserted for every
# pair: per element |ours - ort| <= one quantization step (the largest activation scale feeding
# the output, `qdq_make step`), counted exactly (outside_one_step must be 0).
# The Convs ORT keeps in float inside these models (Conv + Relu whose zero point leaves the Relu
# needed, a Conv whose output Q is read twice, the last Conv) are summed in MLAS's order
# (kernels/x86/conv_ortorder_avx2.c); before that, about one code in 10^5 - 10^6 flipped at the
# Q after each of them (seg_unet ORT mode: 1 of 204800 after e3.1, TensorRT mode: 1 of 409600
# after e2.0; det_yolo TensorRT mode: 1 of 153600 after s1.2.c1, then growing through its 17
# float Convs to 936 output elements beyond one step). Depthwise float Convs (one output channel
# per group) follow MLAS's M = 1 SGEMM kernel, which has no FMA (mobilenetv2 TensorRT mode:
# first flip 1 of 393216 after f.2.b.1, then 9 outputs beyond one step). With ORT 1.30 on
# AVX-512 all 8 pairs are now bit-exact on every quantized tensor, and the two TensorRT-mode
# classifiers differ in the last Gemm (float, ORT's M = 1 dot kernel) by under 1e-4 step. Pairs listed in known_float_gap (none now) would be held only to
#   |ours - ort| <= max |ort - fp32|   (the engines differ less than quantization itself moves
#                                       any element), and
#   SQNR(ours vs ort) >= SQNR(ort vs fp32) + 3 dB,
# which every pair must meet too; the shares within one step and bit-exact are printed.
known_float_gap=""
# Environment (set by CTest): AC_SHARED_DIR, AC_QDQ_MAKE (the tool), AC_CLI (autocompress),
# optional ORT_NODE_DIR. Exits 0 with "skipped" when the shared folder, node or ORT is missing.
set -u

. "$(dirname "$0")/oracle_common.sh"
oracle_need_shared_and_node ort_qdq
tool="${AC_QDQ_MAKE:-}"
cli="${AC_CLI:-}"
if [ -z "$tool" ] || [ ! -x "$tool" ] || [ -z "$cli" ] || [ ! -x "$cli" ]; then
    echo "ort_qdq: FAIL: qdq_make or autocompress not found ('$tool', '$cli')"
    exit 1
fi
oracle_setup_ort ort_qdq

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
            outside="$(field "$vs_ort" outside_one_step)"
            strict=1
            case " $known_float_gap " in *" $tag "*) strict=0 ;; esac
            if [ "$strict" -eq 1 ] && [ "${outside:-x}" != 0 ]; then
                echo "$tag: FAIL: $k has ${outside:-?} elements more than one step ($step)" \
                     "from ORT"
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
