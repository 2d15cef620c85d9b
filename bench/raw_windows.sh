#!/usr/bin/env bash
# 64 windows per request as raw little-endian FP32, over gRPC and binary REST, against the engine alone, measured in
# back-to-back pairs (docs/BENCHMARKS.md, "64 raw windows against the engine, in pairs"). The full side-by-side run
# (bench/grpc_vs_rest.sh) puts half a minute of other protocols between a round's 64-window runs and its engine run;
# on a shared machine the engine's own speed drifts by a quarter over that time, so here each round runs the engine
# right after the requests it is compared with, and the ratio is taken per round. gRPC at concurrency 2 runs twice:
# both calls on one connection (one client's channel) and each on its own (two client processes), since the server
# reads one connection's calls on one event loop.
#   bench/raw_windows.sh [OUT_DIR]        ROUNDS=5 DURATION=6 WARMUP=6 by default
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out="${1:-target/raw-windows}"
mkdir -p "$out"
ROUNDS=${ROUNDS:-5}; D=${DURATION:-6}; W=${WARMUP:-6}
L=(java -jar target/lstmcast.jar)
"${L[@]}" serve --port 18290 --grpc-port 18291 --device cpu > "$out/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2> /dev/null || true' EXIT
until curl -sf http://127.0.0.1:18290/v2/health/ready > /dev/null; do
  sleep 0.5
done
b() { "${L[@]}" bench --json --model dax "$@"; }
grpc=(--protocol grpc --url http://127.0.0.1:18290 --grpc-port 18291 --windows 64)
bin=(--protocol binary --url http://127.0.0.1:18290 --windows 64)
# The server's JIT on both paths first.
b "${grpc[@]}" --concurrency 2 --warmup 0 --duration 15 > /dev/null
b "${bin[@]}" --concurrency 2 --warmup 0 --duration 15 > /dev/null
for r in $(seq 1 "$ROUNDS"); do
  b "${grpc[@]}" --concurrency 1,2 --duration "$D" --warmup "$W" > "$out/grpc64-$r.json"
  b "${grpc[@]}" --concurrency 2 --streams-per-connection 1 --duration "$D" --warmup "$W" > "$out/grpc64own-$r.json"
  b --in-process --model-file models/dax/1/model.onnx --batch 64 --threads 1 --duration "$D" --warmup 2 > "$out/engine-$r.json"
  b "${bin[@]}" --concurrency 1,2 --duration "$D" --warmup "$W" > "$out/binary64-$r.json"
done
kill "$pid"; wait "$pid" 2> /dev/null || true
trap - EXIT
python3 - "$out" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
load = lambda name, r: json.load(open(f"{out}/{name}-{r}.json"))
print("| round | engine, 1 thread | gRPC c=1 | gRPC c=2, one connection | gRPC c=2, a connection each | binary REST c=1 | binary REST c=2 |")
print("| --- | --- | --- | --- | --- | --- | --- |")
keys = ("g1", "g2", "o2", "b1", "b2")
ratios = {k: [] for k in keys}
for r in range(1, rounds + 1):
    e = load("engine", r)[0]["forecasts_per_s"]
    cells = []
    for key, name in (("g", "grpc64"), ("o", "grpc64own"), ("b", "binary64")):
        for row in load(name, r):
            ratios[key + str(row["concurrency"])].append(row["forecasts_per_s"] / e)
            cells.append(f"{row['forecasts_per_s']:,.0f} ({row['forecasts_per_s'] / e:.0%})")
    print(f"| {r} | {e:,.0f} | " + " | ".join(cells) + " |")
print("| median of the rounds' ratios | | " + " | ".join(f"{statistics.median(ratios[k]):.0%}" for k in keys) + " |")
PY
