#!/usr/bin/env bash
# A cold server: start-to-ready, then how fast it answers in its first seconds under load, with the serving warm-up
# (the default) and without it (serve --no-warmup), side by side.
#
# Each run starts `lstmcast serve` in a fresh JVM, polls /v2/health/ready every 10 ms and reports start-to-ready in
# ms, then at once puts 64 closed-loop clients on POST /v1/models/dax/forecast (one 30-step window a request) and
# counts answers in 1-second slices: SLICES slices, then the steady rate over a further STEADY seconds, and the first
# second whose rate reached 80% of that steady rate. Runs alternate (each model set, with and without the warm-up, in
# turn) for N rounds; the table gives each figure's median over the rounds.
#
# MODELS: "bundled" (the repository's models/, dax and co2) and/or "lstm" (src/test/resources/fixtures/dax_lstm.onnx
# as `dax` in a temporary repository, the one-LSTM model of docs/BENCHMARKS.md's serving figures).
# The load is lstmcast bench (the repository's HttpLoad), its answers-so-far line each second; its own JVM starts
# after ready and warms up beside the server's. CLIENT=h2load puts a native client there instead: h2load over HTTP/1.1
# (64 connections, one thread), whose per-request log bench/h2load_log.py cuts into the same 1-second slices.
# CDS=1 starts the server with the class-data archive built at package time (target/lstmcast.jsa).
# SERVE_ARGS adds arguments to every serve, e.g. SERVE_ARGS="--warm-up-traffic 6".
#   bench/cold_start.sh [OUT_DIR]        N=3 SLICES=10 STEADY=10 MODELS="bundled lstm" CDS=0 CLIENT=lstmcast by default
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out="${1:-target/cold-start}"
mkdir -p "$out"
N=${N:-3}; SLICES=${SLICES:-10}; STEADY=${STEADY:-10}; MODELS=${MODELS:-bundled lstm}; CDS=${CDS:-0}
CLIENT=${CLIENT:-lstmcast}
read -r -a serve_args <<< "${SERVE_ARGS:-}"
# h2load's request: the one-window body bench/floor/post.lua gives wrk.
sed -n "s/^wrk.body = '\(.*\)'$/\1/p" bench/floor/post.lua > "$out/body.json"
PORT=${PORT:-18480}; GRPC_PORT=${GRPC_PORT:-18481}
[ -f target/lstmcast.jar ] || { echo "target/lstmcast.jar missing: ./mvnw -B package -DskipTests" >&2; exit 1; }
jvm=()
if [ "$CDS" = 1 ]; then
  [ -f target/lstmcast.jsa ] || { echo "CDS=1: target/lstmcast.jsa missing (built by ./mvnw package)" >&2; exit 1; }
  jvm=(-XX:SharedArchiveFile=target/lstmcast.jsa)
fi

lstm="$(mktemp -d)"
mkdir -p "$lstm/dax/1"
cp src/test/resources/fixtures/dax_lstm.onnx "$lstm/dax/1/model.onnx"
pid=
trap '[ -n "$pid" ] && kill "$pid" 2> /dev/null; rm -rf "$lstm"' EXIT

# Answers per second, one number a line: SLICES slices, then the mean of the STEADY seconds after them.
load_bench() {
  local log=$1
  if [ "$CLIENT" = h2load ]; then
    rm -f "$log.h2"   # h2load appends to its log: a rerun into the same OUT_DIR must not read the last run's requests
    h2load --h1 -c 64 -t 1 -D "$((SLICES + STEADY))" -d "$out/body.json" -H 'Content-Type: application/json' \
      --log-file "$log.h2" "http://127.0.0.1:$PORT/v1/models/dax/forecast" > "$log" 2>&1 || { cat "$log" >&2; return 1; }
    python3 bench/h2load_log.py slices "$log.h2" "$SLICES" "$STEADY"
    return
  fi
  java -jar target/lstmcast.jar bench --json --model dax --url "http://127.0.0.1:$PORT" --concurrency 64 --warmup 0 \
    --duration "$((SLICES + STEADY))" > "$log.json" 2> "$log" || { cat "$log" >&2; return 1; }
  python3 - "$log" "$SLICES" "$STEADY" <<'PY'
import re, sys
log, slices, steady = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
total = [0] + [int(m.group(1)) for m in re.finditer(r"(\d+) answers so far", open(log).read())]
if len(total) < slices + steady + 1:
    sys.exit(f"{log}: {len(total) - 1} progress lines, {slices + steady} expected")
for i in range(1, slices + 1):
    print(total[i] - total[i - 1])
print((total[slices + steady] - total[slices]) / steady)
PY
}

one_run() {
  local name=$1 models=$2 warm=$3 log=$4
  local flags=() start ready_ms
  [ "$warm" = off ] && flags=(--no-warmup)
  start=$(date +%s%N)
  java "${jvm[@]}" -jar target/lstmcast.jar serve --models "$models" --port "$PORT" --grpc-port "$GRPC_PORT" \
    --device cpu --no-console "${flags[@]}" "${serve_args[@]}" > "$log.server" 2>&1 &
  pid=$!
  until curl -sf "http://127.0.0.1:$PORT/v2/health/ready" > /dev/null 2>&1; do
    kill -0 "$pid" 2> /dev/null || { cat "$log.server" >&2; exit 1; }
    (( $(date +%s%N) - start < 120000000000 )) || { echo "$name: not ready after 120 s" >&2; exit 1; }
    sleep 0.01
  done
  ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  rates=$(load_bench "$log") || exit 1
  kill "$pid"; wait "$pid" 2> /dev/null || true
  pid=
  echo "$ready_ms $(echo $rates)" > "$log.rates"
  echo "$name: ready in $ready_ms ms; answers/s per second: $(echo $rates)"
}

echo "load before: $(cat /proc/loadavg)" | tee "$out/load.txt"
configs=()
for m in $MODELS; do
  case "$m" in
    bundled) dir=models ;;
    lstm) dir=$lstm ;;
    *) echo "MODELS: bundled or lstm, not $m" >&2; exit 1 ;;
  esac
  configs+=("$m:$dir:on" "$m:$dir:off")
done
for r in $(seq 1 "$N"); do
  for c in "${configs[@]}"; do
    IFS=: read -r m dir warm <<< "$c"
    one_run "$m, warm-up $warm, round $r" "$dir" "$warm" "$out/$m-$warm-$r"
  done
  echo "round $r end: $(cat /proc/loadavg)" | tee -a "$out/load.txt"
done
trap - EXIT
rm -rf "$lstm"

CLIENT=$CLIENT python3 - "$out" "$N" "$SLICES" $MODELS <<'PY'
import os, statistics, sys
out, n, slices, models = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
med = statistics.median
def first80(rates, steady):
    return next((i + 1 for i, v in enumerate(rates) if v >= 0.8 * steady), None)
cols, rows = [], {}
for m in models:
    for warm in ("on", "off"):
        runs = []
        for r in range(1, n + 1):
            ready, *rates = (float(x) for x in open(f"{out}/{m}-{warm}-{r}.rates").read().split())
            runs.append((ready, rates[:slices], rates[slices]))
        col = f"{m}, {'warm-up' if warm == 'on' else '--no-warmup'}"
        cols.append(col)
        f80 = [first80(rates, steady) for _, rates, steady in runs]
        rows.setdefault("start to ready, ms", {})[col] = f"{med(x for x, _, _ in runs):,.0f}"
        for i in range(slices):
            rows.setdefault(f"second {i + 1}, answers/s", {})[col] = f"{med(rates[i] for _, rates, _ in runs):,.0f}"
        rows.setdefault(f"steady (next seconds), answers/s", {})[col] = f"{med(s for _, _, s in runs):,.0f}"
        rows.setdefault("first second at 80% of steady", {})[col] = (
            "not reached" if None in f80 else f"{med(f80):g}") + f" ({', '.join(str(x) for x in f80)})"
print(f"medians of {n} rounds, 64 connections, one 30-step window a request, client: {os.environ.get('CLIENT', 'lstmcast')}")
print("| | " + " | ".join(cols) + " |")
print("| --- |" + " --- |" * len(cols))
for name, cells in rows.items():
    print(f"| {name} | " + " | ".join(cells[c] for c in cols) + " |")
PY
echo "logs in $out"
