#!/usr/bin/env bash
# One LSTM (or anchor) per series on M3, as a user who knows the horizon runs it: train-many with default options and
# M3's horizon (6 yearly, 8 quarterly and other, 18 monthly) on each series' training part, predict-many from its end,
# and M3's scorer against the held-out values and the submitted methods. Every STEP-th series of each frequency keeps
# the cost to minutes; a series train-many refuses counts as missing.
#   bench/m3_per_series.sh [OUT]        STEP=10 by default; JAR=path/to/lstmcast.jar for another build
set -euo pipefail
cd "$(dirname "$0")/.."
M3=${M3:-../shared/m3}
OUT=${1:-/tmp/m3-per-series}
STEP=${STEP:-10}
JAR=${JAR:-target/lstmcast.jar}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"
declare -A H=([yearly]=6 [quarterly]=8 [monthly]=18 [other]=8)
: > "$OUT/forecasts.csv"
for f in yearly quarterly monthly other; do
  python3 - "$M3/train.csv" "$OUT/$f.csv" "$f" "$STEP" <<'PY'
import csv, sys
src, dst, freq, step = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rows = [r for r in csv.DictReader(open(src)) if r["frequency"] == freq]
ids = []
for r in rows:
    if not ids or ids[-1] != r["id"]:
        ids.append(r["id"])
keep = set(ids[::step])
with open(dst, "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["unique_id", "ds", "y"])
    w.writerows([r["id"], r["date"], r["value"]] for r in rows if r["id"] in keep)
PY
  start=$(date +%s)
  java -jar "$JAR" train-many --data "$OUT/$f.csv" --horizon "${H[$f]}" --out "$OUT/$f-runs" \
    --export "$OUT/$f-models" > "$OUT/$f.train.txt" 2> "$OUT/$f.train.log" || true
  echo "$f: train-many $(( $(date +%s) - start )) s" | tee -a "$OUT/seconds.txt"
  java -jar "$JAR" predict-many --data "$OUT/$f.csv" --models "$OUT/$f-models" --horizon "${H[$f]}" \
    --out "$OUT/$f-forecast.csv" --quiet || true
done
python3 - "$OUT" <<'PY'
import csv, sys, collections
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
        try:
            for r in csv.DictReader(open(f"{out}/{f}-runs/metrics.csv")):
                kept[(f, "refused" if r["status"] != "ok" else "network" if r["networks"] not in ("", "0")
                      else r["kept"].split(":")[0].split(" anchor")[0])] += 1
        except FileNotFoundError:
            pass
for (f, what), n in sorted(kept.items()):
    print(f"kept {f:10s} {what:30s} {n}")
PY
python3 "$M3/score.py" "$OUT/forecasts.csv" | tee "$OUT/score.txt"
