#!/usr/bin/env bash
# train-global on the M3 competition as M3 scores it: one model per frequency, default options, M3's horizons
# (yearly 6, quarterly 8, monthly 18, other 8), fitted on each series' training part only; predict-many --model then
# forecasts every series from its end and the competition's own scorer compares them with the held-out values and
# with the submitted forecasts (THETA, ForecastPro, NAIVE2, ...).
#
#   bench/m3_global.sh [OUT]          M3=../shared/m3 by default (train.csv, test.csv, score.py)
#   FREQUENCIES="monthly" bench/m3_global.sh /tmp/m3   one frequency
#
# Writes OUT/<frequency>/ (the train-global run), OUT/<frequency>.csv (the long table), OUT/forecasts.csv (every
# series), OUT/times.tsv (seconds per command) and OUT/score.txt. Run it on a quiet machine: the times are the point.
set -euo pipefail
cd "$(dirname "$0")/.."
M3=${M3:-../shared/m3}
OUT=${1:-/tmp/m3-global}
FREQUENCIES=${FREQUENCIES:-"yearly quarterly monthly other"}
JAR=${JAR:-target/lstmcast.jar}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"
python3 - "$M3/train.csv" "$OUT" <<'PY'
import csv, sys
tables = {}
for r in csv.DictReader(open(sys.argv[1])):
    tables.setdefault(r["frequency"], []).append((r["id"], r["date"], r["value"]))
for f, rows in tables.items():
    with open(f"{sys.argv[2]}/{f}.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "date", "value"])
        w.writerows(rows)
PY
declare -A H=([yearly]=6 [quarterly]=8 [monthly]=18 [other]=8)
: > "$OUT/times.tsv"
for f in $FREQUENCIES; do
  start=$(date +%s.%N)
  java -jar "$JAR" train-global --data "$OUT/$f.csv" --id-column id --time-column date --target value \
    --horizon "${H[$f]}" --out "$OUT/$f" > "$OUT/$f.train.txt" 2> "$OUT/$f.train.log"
  mid=$(date +%s.%N)
  java -jar "$JAR" predict-many --data "$OUT/$f.csv" --id-column id --time-column date --target value \
    --model "$OUT/$f/model.onnx" --out "$OUT/$f.forecast.csv" > "$OUT/$f.predict.txt"
  end=$(date +%s.%N)
  printf '%s\ttrain-global\t%.1f\tpredict-many\t%.1f\n' "$f" "$(echo "$mid - $start" | bc)" "$(echo "$end - $mid" | bc)" \
    | tee -a "$OUT/times.tsv"
done
python3 - "$OUT" $FREQUENCIES <<'PY'
import csv, sys
out = sys.argv[1]
with open(f"{out}/forecasts.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["id", "step", "forecast"])
    for f in sys.argv[2:]:
        for r in csv.DictReader(open(f"{out}/{f}.forecast.csv")):
            w.writerow([r["id"], r["step"], r["forecast"]])
PY
python3 "$M3/score.py" "$OUT/forecasts.csv" | tee "$OUT/score.txt"
