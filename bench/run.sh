#!/usr/bin/env bash
# The side-by-side benchmark, one command from a clean clone: builds lstmcast, installs the Node.js peer, then
# measures on the bundled DAX model (one 30-step window of an LSTM with hidden size 32 per request):
#   - lstmcast serve and the onnxruntime-node peer at concurrency 1, 16, 64, 256, one window per request;
#   - both with 64 windows per request;
#   - lstmcast with dynamic batching off (--max-batch-size 1) at concurrency 1 and 64;
#   - the engine alone in-process at batch 1 and 64;
#   - start-up time to ready and resident memory;
#   - training epoch time of `lstmcast train` against the PyTorch reference (bench/train_reference.py).
# Every HTTP figure is the median of ROUNDS rounds; the load generator is `lstmcast bench` on the same cores, so
# trust the ratios more than the absolute numbers. Writes a dated section into docs/BENCHMARKS.md.
# MODEL=FILE serves that ONNX file as `dax` (in a temporary repository) and measures the peer and the engine on it
# instead of the bundled model, e.g. MODEL=src/test/resources/fixtures/dax_lstm.onnx, the one-LSTM model of the
# earlier serving figures (the bundled `dax` is now a graph without a network).
#   bench/run.sh                     ROUNDS=3 DURATION=8 WARMUP=3 SERVER_WARMUP=60 MODEL=models/dax/1/model.onnx
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-8}"
WARMUP="${WARMUP:-3}"
# Each server first takes this many seconds of load before any round: on 2 cores the JIT needs a minute or more of
# traffic to reach steady state (lstmcast's throughput triples over it), and production servers run warm.
SERVER_WARMUP="${SERVER_WARMUP:-60}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out="$(mktemp -d)"
lstmcast=(java -jar target/lstmcast.jar)
model="${MODEL:-models/dax/1/model.onnx}"
[ -f "$model" ] || { echo "MODEL=$model: no such file" >&2; exit 1; }
repo=models
if [ "$model" != models/dax/1/model.onnx ]; then
  repo="$out/repo"
  mkdir -p "$repo/dax/1"
  cp "$model" "$repo/dax/1/model.onnx"
fi
echo "$model" > "$out/model.txt"

echo "== build and peer install"
./mvnw -B -q package -DskipTests
bench/peers/node-ort/install.sh > "$out/peer-version.txt"

ready() { for _ in $(seq 1 600); do curl -fsS "http://127.0.0.1:$1/v2/health/ready" > /dev/null 2>&1 && return 0; sleep 0.01; done; return 1; }
rss_mb() { awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$1/status"; }
bench() { "${lstmcast[@]}" bench --json --duration "$DURATION" --warmup "$WARMUP" "$@"; }
warm() { "${lstmcast[@]}" bench --json --duration "$SERVER_WARMUP" --warmup 0 --url "$1" --concurrency 64 > /dev/null; }

echo "== start-up and memory"
start=$(date +%s%N)
# gRPC off (--grpc-port 0): the REST figures are measured here, and two servers would both claim its default 8081.
"${lstmcast[@]}" serve --models "$repo" --port 18080 --grpc-port 0 --device cpu > "$out/lstmcast.log" 2>&1 &
pid=$!
pids=($pid)
trap 'kill "${pids[@]}" 2> /dev/null || true' EXIT
ready 18080
echo "{\"ready_ms\": $(( ($(date +%s%N) - start) / 1000000 )), \"rss_mb\": $(rss_mb $pid)}" > "$out/startup.json"
cat "$out/startup.json"

# All three servers stay up and the rounds alternate between them, so a slow minute on a shared machine costs each
# the same; an idle server takes no CPU from the one under load.
"${lstmcast[@]}" serve --models "$repo" --port 18081 --grpc-port 0 --device cpu --max-batch-size 1 > "$out/nobatch.log" 2>&1 &
pids+=($!)
node bench/peers/node-ort/server.js "$model" 18090 > "$out/peer.log" 2>&1 &
pids+=($!)
for port in 18080 18081 18090; do
  ready $port
  echo "== warming :$port for ${SERVER_WARMUP}s"
  warm http://127.0.0.1:$port
done

for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: lstmcast"
  bench --url http://127.0.0.1:18080 --concurrency 1,16,64,256 > "$out/lstmcast-1-$round.json"
  bench --url http://127.0.0.1:18080 --concurrency 1,16 --windows 64 > "$out/lstmcast-64-$round.json"
  echo "== round $round: lstmcast --max-batch-size 1"
  bench --url http://127.0.0.1:18081 --concurrency 1,64 > "$out/nobatch-1-$round.json"
  echo "== round $round: node-ort peer"
  bench --url http://127.0.0.1:18090 --concurrency 1,16,64,256 > "$out/peer-1-$round.json"
  bench --url http://127.0.0.1:18090 --concurrency 1,16 --windows 64 > "$out/peer-64-$round.json"
done
echo "{\"rss_mb_after\": $(rss_mb $pid)}" > "$out/rss-after.json"
kill "${pids[@]}"; wait "${pids[@]}" || true
trap - EXIT

echo "== engine in-process"
"${lstmcast[@]}" bench --json --in-process --model-file "$model" --batch 1,64 --threads 1 --duration "$DURATION" --warmup "$WARMUP" > "$out/engine-1.json"
"${lstmcast[@]}" bench --json --in-process --model-file "$model" --batch 1,64 --threads 2 --duration "$DURATION" --warmup "$WARMUP" > "$out/engine-2.json"

echo "== training epoch time"
for round in $(seq 1 "$ROUNDS"); do
  # Ten epochs: a default run on the bundled DAX stops after 18, and the first epochs of a JVM include its warm-up.
  "${lstmcast[@]}" train --epochs 10 --patience 100 --quiet --threads "$OMP_NUM_THREADS" --out "$out/train-run-$round"
  /usr/bin/python3 bench/train_reference.py 10 "$OMP_NUM_THREADS" > "$out/torch-$round.json"
done

python3 bench/report.py "$out" "bench/run.sh (ROUNDS=$ROUNDS DURATION=$DURATION WARMUP=$WARMUP SERVER_WARMUP=$SERVER_WARMUP OMP_NUM_THREADS=$OMP_NUM_THREADS)"
echo "raw results in $out"
