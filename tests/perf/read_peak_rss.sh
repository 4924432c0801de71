#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Peak memory of reading a big model: `autocompress inspect` on a synthetic ~100 MB model must
# stay under 2.5 x the file size in peak RSS. The reader steals decoded raw_data buffers instead
# of copying them, so the file bytes, the decoded model and the IR should not all coexist.
#
# Environment (set by CTest): AC_CLI (autocompress), AC_MAKE_BIG_MODEL (tools/make_big_model),
# optional AC_BIG_MODEL_MB (default 100) and AC_RSS_FACTOR (default 2.5).
set -u

cli="${AC_CLI:-}"
maker="${AC_MAKE_BIG_MODEL:-}"
mb="${AC_BIG_MODEL_MB:-100}"
factor="${AC_RSS_FACTOR:-2.5}"
for t in "$cli" "$maker"; do
    if [ -z "$t" ] || [ ! -x "$t" ]; then
        echo "read_peak_rss: FAIL: tool '$t' not found (set AC_CLI and AC_MAKE_BIG_MODEL)"
        exit 1
    fi
done
# GNU time reports the peak RSS of the child; the shell builtin `time` does not
if [ ! -x /usr/bin/time ]; then
    echo "read_peak_rss: skipped (/usr/bin/time is missing: install the Debian package 'time')"
    exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/ac_rss.XXXXXX")"
trap 'rm -rf "$work"' EXIT
model="$work/big.onnx"
if ! "$maker" "$model" "$mb"; then
    echo "read_peak_rss: FAIL: make_big_model failed"
    exit 1
fi
size=$(stat -c %s "$model")

if ! /usr/bin/time -v -o "$work/time.txt" "$cli" inspect "$model" >"$work/out.txt" 2>&1; then
    echo "read_peak_rss: FAIL: autocompress inspect failed:"
    cat "$work/out.txt"
    exit 1
fi
peak_kb=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): \([0-9]*\)$/\1/p' "$work/time.txt")
if [ -z "$peak_kb" ]; then
    echo "read_peak_rss: FAIL: no peak RSS in /usr/bin/time output:"
    cat "$work/time.txt"
    exit 1
fi
peak=$((peak_kb * 1024))
limit=$(awk -v s="$size" -v f="$factor" 'BEGIN { printf "%d", s * f }')
ratio=$(awk -v p="$peak" -v s="$size" 'BEGIN { printf "%.2f", p / s }')
echo "read_peak_rss: file $size bytes ($((size / 1048576)) MiB), peak RSS $peak bytes" \
     "($((peak / 1048576)) MiB) = ${ratio} x file size, limit ${factor} x = $limit bytes"
if [ "$peak" -gt "$limit" ]; then
    echo "read_peak_rss: FAIL: peak RSS is over the limit"
    exit 1
fi
echo "read_peak_rss: ok"
