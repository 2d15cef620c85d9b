#!/usr/bin/env bash
# gRPC and REST side by side on one lstmcast server (docs/BENCHMARKS.md, "gRPC and REST side by side"): one window per
# request at concurrency 1 and 64 over JSON REST, binary REST and gRPC; 64 raw windows per request over gRPC and binary
# REST at concurrency 1 and 2 against the engine alone on 1 and 2 threads; REST at concurrency 64 against a second
# server with batching off. Rounds alternate, so a busy minute on a
# shared machine costs each protocol alike. Every client is a fresh JVM: WARMUP (15 s) of unmeasured load precedes
# each run, since the gRPC client (Netty, protobuf) needs that long to compile; with 2 s it measured a third less.
#   bench/grpc_vs_rest.sh [OUT_DIR]        ROUNDS=3 DURATION=10 WARMUP=15 SERVER_WARMUP=40 by default
set -uo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out="${1:-target/grpc-vs-rest}"
mkdir -p "$out"
ROUNDS=${ROUNDS:-3}; D=${DURATION:-10}; W=${WARMUP:-15}; SW=${SERVER_WARMUP:-40}
L=(java -jar target/lstmcast.jar)
"${L[@]}" serve --port 18280 --grpc-port 18281 --device cpu > "$out/server.log" 2>&1 &
pids=($!)
"${L[@]}" serve --port 18282 --grpc-port 0 --device cpu --max-batch-size 1 > "$out/nobatch.log" 2>&1 &
pids+=($!)
trap 'kill "${pids[@]}" 2> /dev/null || true' EXIT
until curl -sf http://127.0.0.1:18280/v2/health/ready > /dev/null && curl -sf http://127.0.0.1:18282/v2/health/ready > /dev/null; do
  sleep 0.5
done
b() { "${L[@]}" bench --json --model dax --duration "$D" --warmup "$W" "$@"; }
warm() { "${L[@]}" bench --json --model dax --warmup 0 "$@" > /dev/null; }
rest=(--url http://127.0.0.1:18280)
grpc=(--protocol grpc --url http://127.0.0.1:18280 --grpc-port 18281)
bin=(--protocol binary --url http://127.0.0.1:18280)
echo "load before warming: $(cat /proc/loadavg)" | tee "$out/load.txt"
# The server's JIT: each path under load first (docs/SERVING.md: a cold JVM measures the JIT, not the server).
warm "${rest[@]}" --concurrency 64 --duration "$SW"
warm "${grpc[@]}" --concurrency 64 --duration "$SW"
warm "${bin[@]}" --concurrency 64 --duration "$SW"
warm "${grpc[@]}" --concurrency 2 --windows 64 --duration 10
warm "${bin[@]}" --concurrency 2 --windows 64 --duration 10
warm --url http://127.0.0.1:18282 --concurrency 64 --duration "$SW"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r start: $(cat /proc/loadavg)" | tee -a "$out/load.txt"
  b "${rest[@]}" --concurrency 1,64 > "$out/rest-$r.json"
  b "${grpc[@]}" --concurrency 1,64 > "$out/grpc-$r.json"
  b "${bin[@]}" --concurrency 1,64 > "$out/binary-$r.json"
  b "${grpc[@]}" --concurrency 1,2 --windows 64 > "$out/grpc64-$r.json"
  b "${bin[@]}" --concurrency 1,2 --windows 64 > "$out/binary64-$r.json"
  b --url http://127.0.0.1:18282 --concurrency 64 > "$out/nobatch-$r.json"
  b --in-process --model-file models/dax/1/model.onnx --batch 64 --threads 1 > "$out/engine-$r.json"
  b --in-process --model-file models/dax/1/model.onnx --batch 64 --threads 2 > "$out/engine2-$r.json"
  echo "round $r end: $(cat /proc/loadavg)" | tee -a "$out/load.txt"
done
kill "${pids[@]}"; wait "${pids[@]}" 2> /dev/null || true
trap - EXIT
echo "results in $out"
