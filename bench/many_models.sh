#!/usr/bin/env bash
# A server for many models (docs/BENCHMARKS.md, "A server for 10,000 models"): a repository of MODELS hard-linked
# copies of the bundled DAX model served with --max-loaded MAX_LOADED. Measures the time from launch to ready, the
# latency of first requests to FIRST distinct models (each loads its model, evicting beyond the bound), the steady
# latency of requests to models already loaded, and the server's RSS and thread count along the way.
#   bench/many_models.sh [OUT_DIR]        MODELS=10000 MAX_LOADED=500 FIRST=1000 STEADY=2000 by default
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
out="${1:-target/many-models}"
MODELS=${MODELS:-10000}; MAX_LOADED=${MAX_LOADED:-500}; FIRST=${FIRST:-1000}; STEADY=${STEADY:-2000}
PORT=${PORT:-18290}
repo="$out/repo-$MODELS"
mkdir -p "$out"
if [ ! -d "$repo" ]; then
  echo "building $repo"
  python3 - "$repo" "$MODELS" <<'EOF'
import os, shutil, sys
repo, n = sys.argv[1], int(sys.argv[2])
src = os.path.abspath("models/dax/1/model.onnx")
tmp = repo + ".part"
shutil.rmtree(tmp, ignore_errors=True)
for i in range(n):
    d = os.path.join(tmp, "s%05d" % i, "1")
    os.makedirs(d)
    try:
        os.link(src, os.path.join(d, "model.onnx"))
    except OSError:
        shutil.copy(src, os.path.join(d, "model.onnx"))
os.rename(tmp, repo)
EOF
fi
start=$(date +%s.%N)
java -jar target/lstmcast.jar serve --models "$repo" --port "$PORT" --grpc-port 0 --device cpu \
  --max-loaded "$MAX_LOADED" > "$out/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2> /dev/null || true' EXIT
until curl -sf "http://127.0.0.1:$PORT/v2/health/ready" > /dev/null; do
  kill -0 "$pid" 2> /dev/null || { cat "$out/server.log"; exit 1; }
  sleep 0.05
done
ready=$(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')")
python3 - "$PORT" "$pid" "$MODELS" "$FIRST" "$STEADY" "$MAX_LOADED" "$ready" <<'EOF' | tee "$out/result.md"
import http.client, json, re, sys, time
port, pid, models, first, steady, max_loaded, ready = sys.argv[1:8]
port, models, first, steady, max_loaded = int(port), int(models), int(first), int(steady), int(max_loaded)

def proc():
    s = open(f"/proc/{pid}/status").read()
    rss = int(re.search(r"VmRSS:\s+(\d+)", s).group(1)) / 1024
    threads = int(re.search(r"Threads:\s+(\d+)", s).group(1))
    return rss, threads

conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
window = [5000 + 10 * i for i in range(30)]
body = json.dumps({"inputs": [window], "horizon": 5})

def forecast(name):
    t = time.perf_counter()
    conn.request("POST", f"/v1/models/{name}/forecast", body, {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"{name}: {r.status} {data[:200]}")
    return (time.perf_counter() - t) * 1000

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

rss0, threads0 = proc()
step = max(1, models // first)
names = ["s%05d" % (i * step) for i in range(first)]
cold = [forecast(n) for n in names]
rss1, threads1 = proc()
# The last max_loaded/5 asked are loaded still: steady requests cycle over them after a short warm-up.
hot = names[-max(1, max_loaded // 5):]
for n in hot * 3:
    forecast(n)
warm = [forecast(hot[i % len(hot)]) for i in range(steady)]
rss2, threads2 = proc()
conn.request("GET", "/metrics")
scrape = conn.getresponse().read().decode()
def metric(series):
    m = re.search("^" + re.escape(series) + r" (\S+)$", scrape, re.M)
    return float(m.group(1)) if m else float("nan")
loads = metric('lstmcast_model_loads_total{outcome="success"}')
evictions = metric("lstmcast_model_evictions_total")
load_sum = metric("lstmcast_model_load_seconds_sum")
print(f"| measure | value |")
print(f"|---|---|")
print(f"| models in the repository | {models} |")
print(f"| `--max-loaded` | {max_loaded} |")
print(f"| launch to ready (JVM start included) | {ready} s |")
print(f"| first request, {first} distinct models: p50 / p99 / max | {pct(cold,50):.1f} / {pct(cold,99):.1f} / {max(cold):.1f} ms |")
print(f"| steady, {steady} requests over {len(hot)} loaded models: p50 / p99 | {pct(warm,50):.2f} / {pct(warm,99):.2f} ms |")
print(f"| loads / evictions | {loads:.0f} / {evictions:.0f} |")
print(f"| mean load time (server side) | {1000 * load_sum / loads:.1f} ms |")
print(f"| RSS: at ready / after {first} first requests / after steady | {rss0:.0f} / {rss1:.0f} / {rss2:.0f} MiB |")
print(f"| threads: at ready / after first requests / after steady | {threads0} / {threads1} / {threads2} |")
EOF
