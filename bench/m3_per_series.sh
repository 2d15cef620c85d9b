#!/usr/bin/env bash
# One LSTM (or anchor) per series on M3, as a user who knows the horizon runs it: train-many with default options and
# M3's horizon (6 yearly, 8 quarterly and other, 18 monthly) on each series' training part, predict-many from its end,
# and M3's scorer against the held-out values and the submitted methods. Every STEP-th series of each frequency keeps
# the cost to minutes; a series train-many refuses counts as missing. train-many runs on CHUNK series at a time, each
# chunk in its own JVM: libnd4j's fused LSTM training leaks native memory (about 57 MB per network of 32 units trained
# for 30 epochs of 3 batches; docs/BENCHMARKS.md), and 137 monthly series in one JVM reached the machine's 24 GB.
#   bench/m3_per_series.sh [OUT]        STEP=10, CHUNK=35 by default; JAR=path/to/lstmcast.jar for another build
set -euo pipefail
cd "$(dirname "$0")/.."
M3=${M3:-../shared/m3}
OUT=${1:-/tmp/m3-per-series}
STEP=${STEP:-10}
CHUNK=${CHUNK:-35}
JAR=${JAR:-target/lstmcast.jar}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"
declare -A H=([yearly]=6 [quarterly]=8 [monthly]=18 [other]=8)
: > "$OUT/forecasts.csv"
for f in yearly quarterly monthly other; do
  python3 - "$M3/train.csv" "$OUT/$f.csv" "$f" "$STEP" "$CHUNK" <<'PY'
import csv, sys
src, dst, freq, step, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
rows = [r for r in csv.DictReader(open(src)) if r["frequency"] == freq]
ids = []
for r in rows:
    if not ids or ids[-1] != r["id"]:
        ids.append(r["id"])
keep = ids[::step]
part = {i: k // chunk for k, i in enumerate(keep)}
files = {}
for name, ks in [(dst, None)] + [(dst.replace(".csv", f".part{p}.csv"), p) for p in sorted(set(part.values()))]:
    with open(name, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["unique_id", "ds", "y"])
        w.writerows([r["id"], r["date"], r["value"]] for r in rows if r["id"] in part and (ks is None or part[r["id"]] == ks))
PY
  start=$(date +%s)
  for part in "$OUT/$f".part*.csv; do
    k=${part##*.part}; k=${k%.csv}
    java -jar "$JAR" train-many --data "$part" --horizon "${H[$f]}" --out "$OUT/$f-runs-$k" \
      --export "$OUT/$f-models" >> "$OUT/$f.train.txt" 2>> "$OUT/$f.train.log" || true
  done
  echo "$f: train-many $(( $(date +%s) - start )) s" | tee -a "$OUT/seconds.txt"
  java -jar "$JAR" predict-many --data "$OUT/$f.csv" --models "$OUT/$f-models" --horizon "${H[$f]}" \
    --out "$OUT/$f-forecast.csv" --quiet || true
done
python3 - "$OUT" <<'PY'
import csv, sys, collections, glob
out = sys.argv[1]
kept = collections.Counter()
with open(f"{out}/forecasts.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["id", "step", "forecast"])
    for f in ("yearly", "quarterly", "monthly", "other"):
        try:
            for r in csv.DictReader(open(f"{out}/{f}-forecast.csv")):
                w.writerow([r["id"], r["step"], r["forecast"]])
        except FileNotFoundError:
            pass
        for metrics in glob.glob(f"{out}/{f}-runs-*/metrics.csv"):
            for r in csv.DictReader(open(metrics)):
                kept[(f, "refused" if r["status"] != "ok" else "network" if r["networks"] not in ("", "0")
                      else r["kept"].split(":")[0].split(" anchor")[0])] += 1
for (f, what), n in sorted(kept.items()):
    print(f"kept {f:10s} {what:30s} {n}")
PY
python3 "$M3/score.py" "$OUT/forecasts.csv" | tee "$OUT/score.txt"
