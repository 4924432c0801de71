#!/bin/sh
# Benchmark autocompress against ONNX Runtime on the same model, threads and input shape, in
# the same run, and print both medians and the ratio (ours / ORT: below 1.0 means faster).
#
#   tools/bench_vs_ort.sh MODEL [--threads N] [--shape 1x3x224x224] [--iters N] [--batch N]
#                               [--rounds R]
#
# With --rounds R (default 1) the two engines run alternately R times each, and the figures
# are the medians over the rounds of each round's median and minimum, with one ratio per round:
# on a shared machine whose speed drifts over seconds, running one engine after the other
# once can put the drift into the ratio.
#
# ONNX Runtime (npm onnxruntime-node) is a benchmark peer only; it is installed on demand by
# ../shared/tools/ort/setup.sh (or $AC_ORT_TOOLS/setup.sh).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
cli=${AC_CLI:-$here/build/src/cli/autocompress}
ort_tools=${AC_ORT_TOOLS:-$here/../shared/tools/ort}
[ $# -ge 1 ] || { echo "usage: $0 MODEL [--threads N] [--shape AxBxC] [--iters N] [--batch N]" >&2; exit 2; }
model=$1; shift
threads=1; shape=""; iters=30; batch=1; rounds=1
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --shape) shape=$2; shift 2 ;;
    --iters) iters=$2; shift 2 ;;
    --batch) batch=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$cli" ] || { echo "build first: $cli is missing" >&2; exit 2; }
sh "$ort_tools/setup.sh" >/dev/null
if [ -z "$shape" ]; then
  # first input's shape from inspect, symbolic dims -> batch on axis 0
  shape=$("$cli" inspect "$model" --json | node -e '
    let s = ""; process.stdin.on("data", c => s += c).on("end", () => {
      const dims = JSON.parse(s).inputs[0].shape.map((d, i) => typeof d === "number" ? d : (i === 0 ? '"$batch"' : 1));
      console.log(dims.join("x")); });')
fi
ours_all=""; ort_all=""
r=0
while [ "$r" -lt "$rounds" ]; do
  ours=$("$cli" bench "$model" --threads "$threads" --shape "$shape" --iters "$iters" --warmup 5 --json)
  ort=$(node "$ort_tools/ort_run.js" bench "$model" --shape "$shape" --threads "$threads" --iters "$iters" --warmup 5)
  ours_all="$ours_all$ours
"; ort_all="$ort_all$ort
"
  r=$((r + 1))
done
node -e '
  const parse = s => s.trim().split("\n").map(l => JSON.parse(l));
  const a = parse(process.argv[1]), b = parse(process.argv[2]);
  const med = v => { const s = [...v].sort((x, y) => x - y), n = s.length;
                     return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
  const am = med(a.map(x => x.median_ms)), bm = med(b.map(x => x.median_ms));
  const an = med(a.map(x => x.min_ms)), bn = med(b.map(x => x.min_ms));
  console.log(`model ${process.argv[3]}  shape ${process.argv[4]}  threads ${process.argv[5]}  rounds ${a.length}`);
  console.log(`autocompress  median ${am.toFixed(3)} ms  min ${an.toFixed(3)} ms`);
  console.log(`onnxruntime   median ${bm.toFixed(3)} ms  min ${bn.toFixed(3)} ms`);
  if (a.length > 1)
    console.log(`ratio per round (median) ${a.map((x, i) => (x.median_ms / b[i].median_ms).toFixed(3)).join(" ")}`);
  console.log(`ratio (ours/ORT, median) ${(am / bm).toFixed(3)}`);
' "$ours_all" "$ort_all" "$model" "$shape" "$threads"
