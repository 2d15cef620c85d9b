#!/usr/bin/env bash
# gRPC and JSON REST measured by one C client, h2load (Debian: nghttp2-client), on the one-LSTM model the serving
# figures of docs/BENCHMARKS.md were measured on (src/test/resources/fixtures/dax_lstm.onnx, served from a temporary
# repository as `dax`). h2load replays prepared bodies (org.lstmcast.bench.H2loadBodies): a gRPC-framed ModelInfer
# with the windows in raw_input_contents, and the same windows as JSON POST /v2/models/dax/infer.
#
# The server is warmed (WARMUP s of each path under load), then ROUNDS rounds alternate:
#   - gRPC, one window a call: 4 connections x 16 streams (h2load -c 4 -m 16), DURATION s;
#   - JSON REST, one window a request: 64 HTTP/1.1 connections (h2load --h1 -c 64), about DURATION s;
#   - gRPC, 64 raw windows a call, each call on its own connection (h2load -c 1 and -c 2, -m 1), DURATION s each,
#     right after it the engine alone (lstmcast bench --in-process, same model file, batch 64, 1 thread), so each
#     round's ratio compares runs seconds apart.
# h2load sees only the HTTP status, 200 for every gRPC call (a gRPC error travels in the trailers), so after every
# gRPC run the server's own counts (lstmcast_requests_total on /metrics) must show no failure and at least as many
# successes as h2load counted; the script stops with an error otherwise.
#   bench/grpc_h2load.sh [OUT_DIR]        ROUNDS=2 DURATION=10 WARMUP=20 by default; DURATION=2 WARMUP=2 for a check
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out="${1:-target/grpc-h2load}"
mkdir -p "$out"
ROUNDS=${ROUNDS:-2}; D=${DURATION:-10}; W=${WARMUP:-20}
H2T=${H2LOAD_THREADS:-1}
REST_PORT=${REST_PORT:-18380}; GRPC_PORT=${GRPC_PORT:-18381}
command -v h2load > /dev/null || { echo "h2load not found (Debian: apt-get install nghttp2-client)" >&2; exit 1; }
[ -f target/lstmcast.jar ] || { echo "target/lstmcast.jar missing: ./mvnw -B package -DskipTests" >&2; exit 1; }
L=(java -jar target/lstmcast.jar)

repo="$(mktemp -d)"
mkdir -p "$repo/dax/1"
cp src/test/resources/fixtures/dax_lstm.onnx "$repo/dax/1/model.onnx"
"${L[@]}" serve --models "$repo" --port "$REST_PORT" --grpc-port "$GRPC_PORT" --device cpu > "$out/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2> /dev/null || true; rm -rf "$repo"' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$REST_PORT/v2/health/ready" > /dev/null && break
  kill -0 "$pid" 2> /dev/null || { cat "$out/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$REST_PORT/v2/health/ready" > /dev/null || { echo "server not ready after 60 s" >&2; exit 1; }
input=$(curl -sf "http://127.0.0.1:$REST_PORT/v2/models/dax" | python3 -c 'import json,sys; print(json.load(sys.stdin)["inputs"][0]["name"])')
java -cp target/lstmcast.jar org.lstmcast.bench.H2loadBodies dax "$input" 1 30 "$out/body1"
java -cp target/lstmcast.jar org.lstmcast.bench.H2loadBodies dax "$input" 64 30 "$out/body64"

grpc_url="http://127.0.0.1:$GRPC_PORT/inference.GRPCInferenceService/ModelInfer"
rest_url="http://127.0.0.1:$REST_PORT/v2/models/dax/infer"
grpc_h=(-H 'content-type: application/grpc' -H 'te: trailers')
# The server's count of answered requests of an endpoint and outcome, summed over versions.
served() {
  curl -sf "http://127.0.0.1:$REST_PORT/metrics" | awk -v e="$1" -v o="$2" '
    /^lstmcast_requests_total\{/ && index($0, "endpoint=\"" e "\"") && index($0, "model=\"dax\"") && index($0, "outcome=\"" o "\"") { s += $NF }
    END { printf "%d\n", s }'
}
# One h2load run; prints "<succeeded> <seconds>" and fails on any failed request or status other than 2xx.
h2() {
  local log=$1; shift
  # A run that overstays fails rather than hangs (see rest_run).
  timeout "$((D > W ? D + 30 : W + 30))" h2load -t "$H2T" "$@" > "$log" 2>&1 \
    || { cat "$log" >&2; echo "h2load failed or did not stop" >&2; return 1; }
  python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
t = re.search(r"finished in ([0-9.]+)(ms|s)", text)
seconds = float(t.group(1)) / (1000 if t.group(2) == "ms" else 1)
m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout", text)
codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", text)
done, ok, failed, errored, timeout = (int(m.group(i)) for i in (3, 4, 5, 6, 7))
# A timed run's last answers may have their status but not their end when it stops: 2xx can exceed succeeded by those.
if ok == 0 or failed or errored or timeout or any(int(codes.group(i)) for i in (2, 3, 4)):
    sys.exit(f"{sys.argv[1]}: {m.group(0)}; {codes.group(0)}")
print(ok, seconds)
PY
}
# A gRPC run checked against the server's own counts: every call h2load counted answered OK, and no failure but the
# calls in flight when a timed run stops: h2load resets those streams, and the server counts a call its client
# cancelled as failed. So at most connections x streams may fail, and only in a timed run.
grpc_run() {
  local log=$1; shift
  local ok0 fail0 ok1 fail1 res c=1 m=1 timed=0 args=("$@") i
  for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
      -c) c=${args[$((i + 1))]} ;;
      -m) m=${args[$((i + 1))]} ;;
      -D) timed=1 ;;
    esac
  done
  ok0=$(served grpc_infer success); fail0=$(served grpc_infer failure)
  res=$(h2 "$log" "${grpc_h[@]}" "$@" "$grpc_url") || exit 1
  ok1=$(served grpc_infer success); fail1=$(served grpc_infer failure)
  if (( fail1 - fail0 > timed * c * m || ok1 - ok0 < ${res%% *} )); then
    echo "gRPC run $log: h2load counted ${res%% *} answers, the server $((ok1 - ok0)) OK and $((fail1 - fail0)) failed" >&2
    exit 1
  fi
  (( fail1 > fail0 )) && echo "gRPC run $log: $((fail1 - fail0)) calls in flight when h2load stopped were cancelled" >&2
  echo "$res $((ok1 - ok0))"
}
# JSON REST runs are counted (-n), not timed: h2load 1.52 over HTTP/1.1 often hangs when a timed run stops its
# clients. The count is the last REST run's rate times the seconds asked for.
rest_rate=
rest_run() {
  local log=$1 seconds=$2 res; shift 2
  if [ -z "$rest_rate" ]; then
    res=$(h2 "$log.calibrate" --h1 -H 'content-type: application/json' -n 2000 "$@" "$rest_url") || exit 1
    rest_rate=$(awk '{ print int($1 / $2) }' <<< "$res")
  fi
  res=$(h2 "$log" --h1 -H 'content-type: application/json' -n "$(( rest_rate * seconds > 1000 ? rest_rate * seconds : 1000 ))" \
    "$@" "$rest_url") || exit 1
  rest_rate=$(awk '{ print int($1 / $2) }' <<< "$res")
  echo "$res"
}

echo "load before warming: $(cat /proc/loadavg)" | tee "$out/load.txt"
# The server's JIT on every path first (docs/SERVING.md: a cold JVM measures the JIT, not the server).
grpc_run "$out/warm-grpc.log" -D "$W" -c 4 -m 16 -d "$out/body1.grpc" > /dev/null || exit 1
# REST in 2-second runs, so that the count of the measured runs comes from a warm server's rate.
warm_until=$(( $(date +%s) + W ))
while (( $(date +%s) < warm_until )); do
  rest_run "$out/warm-rest.log" 2 -c 64 -m 1 -d "$out/body1.json" > /dev/null || exit 1
done
grpc_run "$out/warm-grpc64.log" -D "$(( (W + 1) / 2 ))" -c 2 -m 1 -d "$out/body64.grpc" > /dev/null || exit 1

results="$out/results.tsv"
: > "$results"
for r in $(seq 1 "$ROUNDS"); do
  echo "round $r start: $(cat /proc/loadavg)" | tee -a "$out/load.txt"
  res=$(grpc_run "$out/grpc-$r.log" -D "$D" -c 4 -m 16 -d "$out/body1.grpc") || exit 1
  read -r ok s served_ok <<< "$res"
  printf 'grpc\t%s\t%s\t%s\t%s\n' "$r" "$ok" "$s" "$served_ok" >> "$results"
  res=$(rest_run "$out/rest-$r.log" "$D" -c 64 -m 1 -d "$out/body1.json") || exit 1
  read -r ok s <<< "$res"
  printf 'rest\t%s\t%s\t%s\t\n' "$r" "$ok" "$s" >> "$results"
  for c in 1 2; do
    res=$(grpc_run "$out/grpc64-c$c-$r.log" -D "$D" -c "$c" -m 1 -d "$out/body64.grpc") || exit 1
    read -r ok s served_ok <<< "$res"
    printf 'grpc64_c%s\t%s\t%s\t%s\t%s\n' "$c" "$r" "$ok" "$s" "$served_ok" >> "$results"
  done
  "${L[@]}" bench --json --in-process --model-file "$repo/dax/1/model.onnx" --batch 64 --threads 1 \
    --duration "$D" --warmup 2 > "$out/engine-$r.json"
  echo "round $r end: $(cat /proc/loadavg)" | tee -a "$out/load.txt"
done
kill "$pid"; wait "$pid" 2> /dev/null || true

python3 - "$out" "$ROUNDS" <<'PY'
import csv, json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rate = {}
for kind, r, ok, s, *_ in csv.reader(open(f"{out}/results.tsv"), delimiter="\t"):
    rate.setdefault(kind, {})[int(r)] = int(ok) / float(s)
engine = {r: json.load(open(f"{out}/engine-{r}.json"))[0]["forecasts_per_s"] for r in range(1, rounds + 1)}
rs = range(1, rounds + 1)
med = lambda xs: statistics.median(list(xs))
print("one window a request, requests/s (h2load)")
print("| round | gRPC, 4 connections x 16 streams | JSON REST /v2 infer, 64 HTTP/1.1 connections | gRPC / REST |")
print("| --- | --- | --- | --- |")
for r in rs:
    g, j = rate["grpc"][r], rate["rest"][r]
    print(f"| {r} | {g:,.0f} | {j:,.0f} | {g / j:.2f}x |")
g, j = med(rate["grpc"].values()), med(rate["rest"].values())
print(f"| median | {g:,.0f} | {j:,.0f} | {g / j:.2f}x (median of rounds' ratios {med(rate['grpc'][r] / rate['rest'][r] for r in rs):.2f}x) |")
print()
print("64 raw windows a gRPC call, a connection per call, forecasts/s (ratio to the engine of the same round)")
print("| round | engine, batch 64, 1 thread | gRPC c=1 | gRPC c=2 |")
print("| --- | --- | --- | --- |")
for r in rs:
    e = engine[r]
    cells = [f"{rate[k][r] * 64:,.0f} ({rate[k][r] * 64 / e:.0%})" for k in ("grpc64_c1", "grpc64_c2")]
    print(f"| {r} | {e:,.0f} | " + " | ".join(cells) + " |")
print(f"| median of the rounds' ratios | | "
      + " | ".join(f"{med(rate[k][r] * 64 / engine[r] for r in rs):.0%}" for k in ("grpc64_c1", "grpc64_c2")) + " |")
print("\nEvery gRPC call h2load counted was answered OK by the server (lstmcast_requests_total); none failed but calls cancelled in flight when a timed run stopped.")
PY
trap - EXIT
rm -rf "$repo"
echo "logs in $out"
