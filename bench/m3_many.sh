#!/usr/bin/env bash
# The same M3 series two ways: one LSTM per series (train-many) and one model across series (train-global, from
# bench/m3_global.sh's run); bench/m3_theta.py gives the third, the global model's Theta half alone. train-many runs
# as a new user runs it: default options (horizon 5), predict-many rolling each model forward to M3's horizon. A
# sample of every STEP-th monthly and quarterly series keeps train-many's cost to minutes; the series train-many
# refuses count as missing, and the global model is scored on the series train-many covered.
#   bench/m3_many.sh GLOBAL_OUT [OUT]        GLOBAL_OUT: bench/m3_global.sh's folder; STEP=20 by default
set -euo pipefail
cd "$(dirname "$0")/.."
M3=${M3:-../shared/m3}
GLOBAL=$1
OUT=${2:-/tmp/m3-many}
STEP=${STEP:-20}
JAR=${JAR:-target/lstmcast.jar}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"
declare -A H=([quarterly]=8 [monthly]=18)
for f in quarterly monthly; do
  python3 - "$GLOBAL/$f.csv" "$OUT/$f.csv" "$STEP" <<'PY'
import csv, sys
ids = []
rows = list(csv.DictReader(open(sys.argv[1])))
for r in rows:
    if not ids or ids[-1] != r["id"]:
        ids.append(r["id"])
keep = set(ids[::int(sys.argv[3])])
with open(sys.argv[2], "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["unique_id", "ds", "y"])
    w.writerows([r["id"], r["date"], r["value"]] for r in rows if r["id"] in keep)
PY
  java -jar "$JAR" train-many --data "$OUT/$f.csv" --out "$OUT/$f-runs" \
    --export "$OUT/$f-models" --quiet || true
  java -jar "$JAR" predict-many --data "$OUT/$f.csv" --models "$OUT/$f-models" \
    --horizon "${H[$f]}" --out "$OUT/$f-forecast.csv" --quiet || true
done
python3 - "$OUT" "$GLOBAL" <<'PY'
import csv, sys
out, glob = sys.argv[1], sys.argv[2]
ids = set()
with open(f"{out}/per-series.csv", "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["id", "step", "forecast"])
    for f in ("quarterly", "monthly"):
        for r in csv.DictReader(open(f"{out}/{f}.csv")):
            ids.add(r["unique_id"])
        try:
            for r in csv.DictReader(open(f"{out}/{f}-forecast.csv")):
                w.writerow([r["id"], r["step"], r["forecast"]])
        except FileNotFoundError:
            pass
covered = set()
with open(f"{out}/per-series.csv") as fh:
    covered = {r["id"] for r in csv.DictReader(fh)}
for name, keep in (("global", ids), ("global-covered", covered)):
    with open(f"{out}/{name}.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "step", "forecast"])
        for r in csv.DictReader(open(f"{glob}/forecasts.csv")):
            if r["id"] in keep:
                w.writerow([r["id"], r["step"], r["forecast"]])
PY
echo "== one LSTM per series (train-many)"; python3 "$M3/score.py" "$OUT/per-series.csv" | tee "$OUT/per-series.txt"
echo "== one model across series (train-global), every sampled series"
python3 "$M3/score.py" "$OUT/global.csv" | tee "$OUT/global.txt"
echo "== one model across series (train-global), the series train-many forecast"
python3 "$M3/score.py" "$OUT/global-covered.csv" | tee "$OUT/global-covered.txt"
