#!/usr/bin/env bash
# Training speed beside PyTorch, side by side in one run, N rounds alternating, one native thread on both sides.
#
# - `train`'s epoch: `lstmcast train` on the bundled DAX with one network for 10 epochs (its fused SameDiff graph),
#   against bench/train_reference.py (the same network, windows and batches in PyTorch). Median epoch over all rounds.
# - train-global's network in windows/s: bench/GlobalTrainingSpeed.java (DL4J's loop, as train-global trains) against
#   bench/global_reference.py, at the shapes of M3's quarterly (16 steps, horizon 8) and monthly (48 steps, horizon 18)
#   series. Median over all timed rounds.
#   bench/training_speed.sh [OUT_DIR]        N=3 by default
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
out="${1:-target/training-speed}"
mkdir -p "$out"
N=${N:-3}
[ -f target/lstmcast.jar ] || { echo "target/lstmcast.jar missing: ./mvnw -B package -DskipTests" >&2; exit 1; }
cp=(-cp 'target/lstmcast.jar:target/lib/*')
for round in $(seq 1 "$N"); do
  echo "round $round" >&2
  java -jar target/lstmcast.jar train --transform diff --ensemble 1 --no-refit --no-final-fit --epochs 10 \
    --patience 100 --quiet --threads 1 --out "$out/train-$round" > /dev/null 2>&1
  /usr/bin/python3 bench/train_reference.py 10 1 > "$out/torch-epoch-$round.json"
  for shape in "16 8" "48 18"; do
    tag=${shape// /-}
    java "${cp[@]}" bench/GlobalTrainingSpeed.java $shape 2> /dev/null | grep '^{' > "$out/global-lstmcast-$tag-$round.json"
    /usr/bin/python3 bench/global_reference.py $shape > "$out/global-torch-$tag-$round.json"
  done
done
/usr/bin/python3 - "$out" "$N" <<'PY'
import json, os, statistics, sys
out, n = sys.argv[1], int(sys.argv[2])
lst = [e for r in range(1, n + 1) for e in json.load(open(os.path.join(out, f"train-{r}", "metrics.json")))["epoch_seconds"]]
tor = [e for r in range(1, n + 1) for e in json.load(open(os.path.join(out, f"torch-epoch-{r}.json")))["seconds_per_epoch"]]
print("| what | lstmcast | PyTorch | lstmcast / PyTorch |")
print("| --- | --- | --- | --- |")
a, b = statistics.median(lst), statistics.median(tor)
w = json.load(open(os.path.join(out, "torch-epoch-1.json")))["windows"]
print(f"| train: seconds per epoch (bundled DAX, {w:,} windows, median of {len(lst)} and {len(tor)} epochs) | {a:.3f} | {b:.3f} | {a / b:.2f}x time |")
for tag, what in (("16-8", "16 steps, horizon 8"), ("48-18", "48 steps, horizon 18")):
    l = [x for r in range(1, n + 1) for x in json.load(open(os.path.join(out, f"global-lstmcast-{tag}-{r}.json")))["windows_per_second"]]
    t = [x for r in range(1, n + 1) for x in json.load(open(os.path.join(out, f"global-torch-{tag}-{r}.json")))["windows_per_second"]]
    a, b = statistics.median(l), statistics.median(t)
    print(f"| train-global's network: windows/s ({what}, batches of 128, median of {len(l)} rounds each) | {a:,.0f} | {b:,.0f} | {a / b:.2f}x speed |")
PY
