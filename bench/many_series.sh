#!/usr/bin/env bash
# Many series on Spark (docs/BENCHMARKS.md, "train-many and predict-many"): SERIES generated series of ROWS points at
# scales from 1e-3 to 1e6 in the long format, trained, evaluated and exported by train-many with default options, then
# forecast by predict-many, on local[2] and, for the ratio, on local[1]. Wall time of each command, JVM start included.
#   bench/many_series.sh [OUT_DIR]        SERIES=16 ROWS=200 MASTERS="local[2] local[1]" REPEAT=3 by default
# Runs alternate between the masters, REPEAT rounds; the table gives medians and every train-many time.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out="${1:-target/many-series}"
SERIES=${SERIES:-16}; ROWS=${ROWS:-200}; MASTERS=${MASTERS:-"local[2] local[1]"}; REPEAT=${REPEAT:-3}
mkdir -p "$out"
python3 - "$out/long.csv" "$SERIES" "$ROWS" <<'PY'
import datetime, math, random, sys
path, n, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(7)
with open(path, "w") as f:
    f.write("unique_id,ds,y\n")
    for k in range(n):
        scale = 10 ** (-3 + 9 * k / max(1, n - 1))
        period = (7, 12, 24)[k % 3]
        for t in range(rows):
            v = scale * (50 + 10 * math.sin(2 * math.pi * t / period + k) + 0.1 * t + rnd.gauss(0, 1.5))
            f.write("item_%02d,%s,%.6g\n" % (k, datetime.date(2020, 1, 1) + datetime.timedelta(days=t), v))
PY
results="$out/runs.tsv"
: > "$results"
for run in $(seq 1 "$REPEAT"); do
  for master in $MASTERS; do
    tag=${master//[^a-z0-9]/}
    rm -rf "$out/runs-$tag" "$out/repo-$tag"
    t0=$(date +%s.%N)
    java -jar target/lstmcast.jar train-many --data "$out/long.csv" --master "$master" --out "$out/runs-$tag" \
      --export "$out/repo-$tag" > "$out/train-$tag.log" 2>&1
    t1=$(date +%s.%N)
    java -jar target/lstmcast.jar predict-many --data "$out/long.csv" --master "$master" --models "$out/repo-$tag" \
      --out "$out/forecast-$tag.csv" > "$out/predict-$tag.log" 2>&1
    t2=$(date +%s.%N)
    ok=$(grep -c ',ok,' "$out/runs-$tag/metrics.csv" || true)
    tasks=$(sed -n 's/.*(\([0-9]*\) Spark tasks).*/\1/p' "$out/train-$tag.log")
    better=$(python3 - "$out/runs-$tag/metrics.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
print(sum(float(r["model_rmse_mean"]) < float(r["naive_rmse_mean"]) for r in rows))
PY
)
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$master" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$ok" "$tasks" \
      "$better" >> "$results"
  done
done
python3 - "$results" "$SERIES" > "$out/result.md" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
n = sys.argv[2]
print("| master | train-many, median (runs) s | predict-many, median s | both, median s | series ok | Spark tasks | LSTM below naive |")
print("|---|---|---|---|---|---|---|")
masters = list(dict.fromkeys(r[0] for r in rows))
med = {}
for m in masters:
    mine = [r for r in rows if r[0] == m]
    tr = [float(r[1]) for r in mine]; pr = [float(r[2]) for r in mine]
    both = [a + b for a, b in zip(tr, pr)]
    med[m] = statistics.median(tr)
    print("| %s | %.1f (%s) | %.1f | %.1f | %s/%s | %s | %s/%s |" % (m, statistics.median(tr),
          ", ".join("%.1f" % t for t in tr), statistics.median(pr), statistics.median(both), mine[-1][3], n,
          mine[-1][4], mine[-1][5], mine[-1][3]))
if len(masters) > 1:
    print()
    print("train-many speed-up, %s over %s (medians): %.2fx" % (masters[0], masters[-1], med[masters[-1]] / med[masters[0]]))
PY
cat "$out/result.md"
