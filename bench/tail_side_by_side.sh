#!/usr/bin/env bash
# The concurrency-1 tail of two or more builds side by side: rounds alternate between the checkouts, each a fresh
# `lstmcast serve` (the one-LSTM fixture src/test/resources/fixtures/dax_lstm.onnx as model `dax`, --device cpu,
# OMP_NUM_THREADS=1), warmed WARMUP_S seconds at concurrency 16, then DURATION seconds at concurrency 1 with h2load
# (HTTP/1.1, one connection, as fast as answers come; the first CLIENT_WARMUP seconds left out), then 10 s at
# concurrency 64 for its throughput. BUSY=1 runs one spinning python3 process beside the concurrency-1 run. Each run
# also gives the server's CPU time per request (user and system from /proc/PID/stat) over the concurrency-1 run.
# Prints every run and the medians per checkout.
#   bench/tail_side_by_side.sh [CHECKOUT ...]       N=5 BUSY=1 WARMUP_S=20 DURATION=25 CLIENT_WARMUP=5
# e.g. git worktree add /tmp/before <commit> && (cd /tmp/before && ./mvnw -B -q package -DskipTests)
#      bench/tail_side_by_side.sh /tmp/before .
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export OMP_NUM_THREADS=1
N=${N:-5}; BUSY=${BUSY:-1}; WARMUP_S=${WARMUP_S:-20}; DURATION=${DURATION:-25}; CLIENT_WARMUP=${CLIENT_WARMUP:-5}
PORT=${PORT:-18490}
command -v h2load > /dev/null || { echo "h2load missing (Debian's nghttp2-client)" >&2; exit 1; }
[ $# -gt 0 ] || set -- "$here"
dirs=()
for d in "$@"; do
  d="$(cd "$d" && pwd)"
  [ -f "$d/target/lstmcast.jar" ] || { echo "$d/target/lstmcast.jar missing: ./mvnw -B package -DskipTests there" >&2; exit 1; }
  dirs+=("$d")
done
out="$(mktemp -d)"
mkdir -p "$out/repo/dax/1"
cp "$here/src/test/resources/fixtures/dax_lstm.onnx" "$out/repo/dax/1/model.onnx"
sed -n "s/^wrk.body = '\(.*\)'$/\1/p" "$here/bench/floor/post.lua" | tr -d '\n' > "$out/body.json"
url="http://127.0.0.1:$PORT/v1/models/dax/forecast"
h2() { h2load --h1 -t 1 -d "$out/body.json" -H 'Content-Type: application/json' "$@" "$url"; }
pid=; spin=
trap '[ -n "$pid" ] && kill "$pid" 2> /dev/null; [ -n "$spin" ] && kill "$spin" 2> /dev/null; true' EXIT
for round in $(seq 1 "$N"); do
  for i in "${!dirs[@]}"; do
    d=${dirs[$i]}; run="$out/$round-$i"
    (cd "$d" && exec java -jar target/lstmcast.jar serve --models "$out/repo" --port "$PORT" --grpc-port 0 --device cpu \
      --no-console > "$run.server.log" 2>&1) &
    pid=$!
    until curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "@$out/body.json" "$url" 2> /dev/null; do
      kill -0 "$pid" 2> /dev/null || { echo "$d: the server exited; see $run.server.log" >&2; exit 1; }
      sleep 0.1
    done
    h2 -c 16 -D "$WARMUP_S" > /dev/null
    [ "$BUSY" = 1 ] && { python3 -c 'while True: pass' & spin=$!; }
    t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    h2 -c 1 -D "$((DURATION + CLIENT_WARMUP))" --log-file "$run.h2" > "$run.c1.txt"
    t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    [ -n "$spin" ] && { kill "$spin"; wait "$spin" 2> /dev/null || true; spin=; }
    h2 -c 64 -D 10 > "$run.c64.txt"
    kill "$pid"; wait "$pid" 2> /dev/null || true; pid=
    python3 - "$run" "$d" "$round" "$((t1 - t0))" "$(getconf CLK_TCK)" "$here/bench/h2load_log.py" "$CLIENT_WARMUP" <<'PY'
import json, re, subprocess, sys
run, d, rnd, ticks, hz, log, skip = sys.argv[1:]
lat = json.loads(subprocess.check_output([sys.executable, log, "latency", run + ".h2", skip]))
done = int(re.search(r"(\d+) succeeded", open(run + ".c1.txt").read()).group(1))
c64 = float(re.search(r"finished in .*?, ([0-9.]+) req/s", open(run + ".c64.txt").read()).group(1))
row = {"checkout": d, "round": int(rnd), "p50_ms": lat["p50_ms"], "p99_ms": lat["p99_ms"], "p999_ms": lat["p999_ms"],
       "max_ms": lat["max_ms"], "c1_requests_per_s": lat["requests_per_s"],
       "cpu_us_per_request": round(int(ticks) / int(hz) * 1e6 / done, 1), "c64_requests_per_s": c64}
json.dump(row, open(run + ".row.json", "w"))
print(json.dumps(row))
PY
  done
done
python3 - "$out" "${dirs[@]}" <<'PY'
import glob, json, statistics, sys
out, dirs = sys.argv[1], sys.argv[2:]
rows = [json.load(open(f)) for f in glob.glob(out + "/*.row.json")]
for d in dirs:
    mine = [r for r in rows if r["checkout"] == d]
    med = {k: statistics.median(r[k] for r in mine) for k in
           ("p50_ms", "p99_ms", "p999_ms", "max_ms", "c1_requests_per_s", "cpu_us_per_request", "c64_requests_per_s")}
    print(f"{d} ({len(mine)} rounds), medians: " + ", ".join(f"{k} {v:g}" for k, v in med.items()))
print("runs in", out)
PY
