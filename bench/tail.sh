#!/usr/bin/env bash
# The concurrency-1 tail study: where lstmcast's p99.9 and max come from at one request at a time.
#   - Serves the one-LSTM fixture src/test/resources/fixtures/dax_lstm.onnx (as model `dax` of a temporary
#     repository) with `lstmcast serve --grpc-port 0 --device cpu`, OMP_NUM_THREADS=1, one JVM per collector:
#       g1          the JDK's default G1
#       g1-tuned    G1 with -XX:MaxGCPauseMillis=1 -Xmn64m (a small young generation: short, frequent pauses)
#       zgc         -XX:+UseZGC (JDK 17's ZGC is not generational; -XX:+ZGenerational arrives in JDK 21)
#       shenandoah  -XX:+UseShenandoahGC, where the JDK has it (skipped with a note where not)
#     and, as the machine's floor, bench/floor/HttpFloor.java's Javalin hello-world (same Jetty and Javalin, no
#     model, no JSON parsing; default G1) and bench/floor/hello.js, a Node.js hello-world (node-floor).
#   - Each server takes WARMUP_S seconds of load at concurrency 64 first; then ROUNDS rounds of DURATION seconds at
#     concurrency 1 alternate between the servers, so a slow minute on a shared machine costs each the same.
#   - With BUSY=1 (the default) each round also measures every server again with a busy neighbour: one
#     `python3` process spinning `while True: pass` (one core's worth of CPU, no pinning; stress-ng is not assumed).
#   - For every server, the CPU time its process used per request (user and system, from /proc/PID/stat, over the
#     requests the client sent in the run, its warm-up included), so a reader can tell how much of a core it needs.
#   - For lstmcast's servers, per run: bytes allocated per request (the sum of every thread's allocated bytes, from
#     `jcmd PID Thread.print -e`, before and after, over the requests the server's /metrics counted) and the
#     stop-the-world time (GC pauses from -Xlog:gc,gc+phases and every safepoint from -Xlog:safepoint), so a reader
#     can tell whether the tail is GC pauses.
# The client is `lstmcast bench` on the same cores, a fresh JVM per run with CLIENT_WARMUP unmeasured seconds.
# CLIENT=h2load measures the concurrency-1 runs with a native client instead: h2load over HTTP/1.1 (one connection,
# one thread), its per-request log read by bench/h2load_log.py, the first CLIENT_WARMUP seconds left out. With
# RPS=N as well, h2load sends at most N requests a second (an open rate, not as fast as answers come back).
# Prints one summary table (the median over the rounds per configuration and condition) and writes everything to
# a temporary directory whose path it prints.
#   bench/tail.sh                                   WARMUP_S=60 DURATION=30 ROUNDS=3 BUSY=1 by default
#   WARMUP_S=3 DURATION=3 ROUNDS=1 bench/tail.sh    a quick check that it runs (about two minutes)
#   CONFIGS="g1 zgc floor" bench/tail.sh            a subset of: g1 g1-tuned zgc shenandoah floor node-floor
# Extra JVM options for every lstmcast server (a fixed heap, say): SERVER_OPTS="-Xms1g -Xmx1g".
set -euo pipefail
cd "$(dirname "$0")/.."
WARMUP_S="${WARMUP_S:-60}"
DURATION="${DURATION:-30}"
ROUNDS="${ROUNDS:-3}"
BUSY="${BUSY:-1}"
CONFIGS="${CONFIGS:-g1 g1-tuned zgc shenandoah floor node-floor}"
CLIENT_WARMUP="${CLIENT_WARMUP:-$(( DURATION >= 10 ? 10 : 1 ))}"
SERVER_OPTS="${SERVER_OPTS:-}"
CLIENT="${CLIENT:-lstmcast}"
RPS="${RPS:-}"
export OMP_NUM_THREADS=1
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
out="$(mktemp -d)"
echo "== results in $out"

[ -f target/lstmcast.jar ] || ./mvnw -B -q package -DskipTests
repo="$out/models"
mkdir -p "$repo/dax/1"
cp src/test/resources/fixtures/dax_lstm.onnx "$repo/dax/1/model.onnx"
body="$(sed -n "s/^wrk.body = '\(.*\)'$/\1/p" bench/floor/post.lua)"
printf '%s' "$body" > "$out/body.json"

# The floors (a hello-world on Javalin, one on Node.js) run no model and have no JVM options to compare.
floor() { [ "$1" = floor ] || [ "$1" = node-floor ]; }

gc_opts() {
  case "$1" in
    g1) echo "-XX:+UseG1GC" ;;
    g1-tuned) echo "-XX:+UseG1GC -XX:MaxGCPauseMillis=1 -Xmn64m" ;;
    zgc) echo "-XX:+UseZGC" ;;
    shenandoah) echo "-XX:+UseShenandoahGC" ;;
    *) echo "unknown configuration $1 (one of: g1 g1-tuned zgc shenandoah floor node-floor)" >&2; return 1 ;;
  esac
}

# The configurations this JDK can run.
configs=()
for c in $CONFIGS; do
  if ! floor "$c" && ! java $(gc_opts "$c") -version > /dev/null 2>&1; then
    echo "== skipping $c: this JDK does not accept $(gc_opts "$c")" | tee -a "$out/notes.txt"
    continue
  fi
  configs+=("$c")
done
java -version 2>&1 | head -1 > "$out/jdk.txt"

pids=()
spin=""
cleanup() {
  [ -n "$spin" ] && kill "$spin" 2> /dev/null || true
  [ "${#pids[@]}" -gt 0 ] && kill "${pids[@]}" 2> /dev/null || true
}
trap cleanup EXIT

# A server is ready once a forecast request is answered 200.
ready() {
  for _ in $(seq 1 600); do
    curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' -d "$body" \
      "http://127.0.0.1:$1/v1/models/dax/forecast" 2> /dev/null && return 0
    sleep 0.1
  done
  echo "server on :$1 did not answer; see $out" >&2
  return 1
}

declare -A port pid
p=18400
for c in "${configs[@]}"; do
  p=$((p + 1))
  port[$c]=$p
  if [ "$c" = floor ]; then
    java -cp 'target/lib/*' bench/floor/HttpFloor.java javalin "$p" > "$out/$c.log" 2>&1 &
  elif [ "$c" = node-floor ]; then
    node bench/floor/hello.js "$p" > "$out/$c.log" 2>&1 &
  else
    # shellcheck disable=SC2046
    java $(gc_opts "$c") $SERVER_OPTS -Xlog:gc,gc+phases,safepoint:file="$out/$c-gc.log":uptimemillis \
      -jar target/lstmcast.jar serve --models "$repo" --port "$p" --grpc-port 0 --device cpu \
      --poll-seconds 3600 > "$out/$c.log" 2>&1 &
  fi
  pid[$c]=$!
  pids+=($!)
done
for c in "${configs[@]}"; do
  ready "${port[$c]}"
  echo "== warming $c (:${port[$c]}) for ${WARMUP_S}s at concurrency 64"
  java -jar target/lstmcast.jar bench --json --duration "$WARMUP_S" --warmup 0 --concurrency 64 \
    --url "http://127.0.0.1:${port[$c]}" > "$out/$c-warmup.json"
done

# Bytes allocated so far by the server's live threads (a thread that ended takes its count with it).
allocated() {
  jcmd "$1" Thread.print -e 2> /dev/null | "$PY" -c '
import re, sys
units = {"B": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
print(sum(int(n) * units[u] for n, u in re.findall(r"allocated=(\d+)([BKMGT])", sys.stdin.read())))'
}
# User and system CPU time of a process so far, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Forecast requests the server has answered, from its /metrics.
served() {
  curl -fsS "http://127.0.0.1:$1/metrics" | awk '/^lstmcast_request_seconds_count\{endpoint="forecast"/ {n += $2} END {printf "%d\n", n}'
}

# One run: concurrency 1 against configuration $1, condition $2 (idle or busy), round $3.
run() {
  local c=$1 cond=$2 round=$3 name="$1-$2-$3" a0 a1 r0 r1 off0 off1 t0 t1
  echo "== round $round, $cond: $c"
  t0=$(cpu_ticks "${pid[$c]}")
  if ! floor "$c"; then
    a0=$(allocated "${pid[$c]}"); r0=$(served "${port[$c]}")
    off0=$(stat -c %s "$out/$c-gc.log")
  fi
  if [ "$CLIENT" = h2load ]; then
    h2load --h1 -c 1 -t 1 ${RPS:+--rps "$RPS"} -D "$((DURATION + CLIENT_WARMUP))" -d "$out/body.json" \
      -H 'Content-Type: application/json' \
      --log-file "$out/$name.h2" "http://127.0.0.1:${port[$c]}/v1/models/dax/forecast" > "$out/$name.h2load.txt" 2>&1
    "$PY" bench/h2load_log.py latency "$out/$name.h2" "$CLIENT_WARMUP" > "$out/$name.json"
  else
    java -jar target/lstmcast.jar bench --json --duration "$DURATION" --warmup "$CLIENT_WARMUP" --concurrency 1 \
      --url "http://127.0.0.1:${port[$c]}" > "$out/$name.json"
  fi
  if ! floor "$c"; then
    off1=$(stat -c %s "$out/$c-gc.log")
    r1=$(served "${port[$c]}"); a1=$(allocated "${pid[$c]}")
    # The log lines written during the run (client warm-up included), for the pauses.
    tail -c +"$((off0 + 1))" "$out/$c-gc.log" | head -c "$((off1 - off0))" > "$out/$name-gc.log"
    echo "{\"allocated_bytes\": $((a1 - a0)), \"requests_served\": $((r1 - r0))}" > "$out/$name-alloc.json"
  fi
  t1=$(cpu_ticks "${pid[$c]}")
  echo "{\"cpu_ticks\": $((t1 - t0)), \"ticks_per_s\": $(getconf CLK_TCK)}" > "$out/$name-cpu.json"
}

for round in $(seq 1 "$ROUNDS"); do
  for c in "${configs[@]}"; do run "$c" idle "$round"; done
  if [ "$BUSY" = 1 ]; then
    "$PY" -c 'while True: pass' &
    spin=$!
    for c in "${configs[@]}"; do run "$c" busy "$round"; done
    kill "$spin"; wait "$spin" 2> /dev/null || true
    spin=""
  fi
done
cleanup
wait 2> /dev/null || true
pids=()
trap - EXIT
echo "busy neighbour: one python3 process spinning 'while True: pass', unpinned" >> "$out/notes.txt"

DURATION=$DURATION CLIENT_WARMUP=$CLIENT_WARMUP "$PY" - "$out" "${configs[@]}" <<'EOF'
import glob, json, os, re, statistics, sys

out, configs = sys.argv[1], sys.argv[2:]

def pauses(path):
    """GC pauses (lines 'Pause ... N.NNNms') and every safepoint's total from one run's slice of the log."""
    gc, sp = [], []
    if not os.path.exists(path):
        return None
    for line in open(path, errors="replace"):
        m = re.search(r"\bPause\b.*?([0-9.]+)ms$", line.strip())
        if m and "Safepoint" not in line:
            gc.append(float(m.group(1)))
        m = re.search(r"Safepoint \"([^\"]+)\".*Total: (\d+) ns", line)
        if m:
            sp.append(int(m.group(2)) / 1e6)
    return {"gc_pauses": len(gc), "gc_pause_ms_total": round(sum(gc), 3), "gc_pause_ms_max": max(gc, default=0.0),
            "safepoints": len(sp), "safepoint_ms_total": round(sum(sp), 3), "safepoint_ms_max": round(max(sp, default=0.0), 3)}

runs = []
for path in sorted(glob.glob(os.path.join(out, "*-*-[0-9]*.json"))):
    name = os.path.basename(path)[:-5]
    m = re.fullmatch(r"(.+)-(idle|busy)-(\d+)", name)
    if not m:
        continue
    c, cond, rnd = m.group(1), m.group(2), int(m.group(3))
    data = json.load(open(path))
    rows = data if isinstance(data, list) else data.get("results", data.get("runs", [data]))
    row = rows[0] if isinstance(rows, list) else rows
    r = {"config": c, "condition": cond, "round": rnd, **{k: row.get(k) for k in
         ("requests_per_s", "p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "requests", "non_2xx", "socket_errors")}}
    alloc = os.path.join(out, name + "-alloc.json")
    if os.path.exists(alloc):
        a = json.load(open(alloc))
        r["bytes_per_request"] = round(a["allocated_bytes"] / a["requests_served"]) if a["requests_served"] else None
        r["requests_served"] = a["requests_served"]
        r.update(pauses(os.path.join(out, name + "-gc.log")))
    cpu = os.path.join(out, name + "-cpu.json")
    if os.path.exists(cpu) and row.get("requests"):
        t = json.load(open(cpu))
        # The CPU figure covers the client's warm-up too: lstmcast counts every request it served; for the floors the
        # warm-up's requests are estimated at the measured rate.
        sent = r.get("requests_served") or row["requests"] * (
            1 + float(os.environ.get("CLIENT_WARMUP", 0)) / float(os.environ.get("DURATION", 30)))
        r["cpu_us_per_request"] = round(t["cpu_ticks"] / t["ticks_per_s"] * 1e6 / sent, 1)
    runs.append(r)

keys = ["requests_per_s", "p50_ms", "p99_ms", "p999_ms", "max_ms", "cpu_us_per_request", "bytes_per_request", "gc_pauses",
        "gc_pause_ms_total", "gc_pause_ms_max", "safepoint_ms_total", "safepoint_ms_max"]
summary = []
for cond in ("idle", "busy"):
    for c in configs:
        rs = [r for r in runs if r["config"] == c and r["condition"] == cond]
        if not rs:
            continue
        s = {"config": c, "condition": cond, "rounds": len(rs)}
        for k in keys:
            vals = [r[k] for r in rs if r.get(k) is not None]
            s[k] = statistics.median(vals) if vals else None
        summary.append(s)

notes = open(os.path.join(out, "notes.txt")).read().splitlines() if os.path.exists(os.path.join(out, "notes.txt")) else []
result = {"jdk": open(os.path.join(out, "jdk.txt")).read().strip(), "duration_s": float(os.environ.get("DURATION", 30)),
          "notes": notes, "runs": runs, "summary": summary}
json.dump(result, open(os.path.join(out, "tail.json"), "w"), indent=2)

heads = ["config", "condition", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "CPU µs/request", "B/request", "GC pauses",
         "GC ms", "GC max ms", "safepoint ms", "safepoint max ms"]
def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.0f}" if v >= 100 else f"{v:.3f}"
    return str(v)
print()
print("median over the rounds of each configuration and condition; the pause columns cover each run's whole window "
      "(client warm-up included)")
print("| " + " | ".join(heads) + " |")
print("|" + " --- |" * len(heads))
for s in summary:
    print("| " + " | ".join([s["config"], s["condition"]] + [fmt(s[k]) for k in keys]) + " |")
for n in notes:
    print("note: " + n)
print(f"\nall of it as JSON: {os.path.join(out, 'tail.json')}")
EOF
