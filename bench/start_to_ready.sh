#!/usr/bin/env bash
# Start-to-ready of `lstmcast serve` on the bundled models, side by side for one or more checkouts (each built with
# ./mvnw package, so each has its own target/lstmcast.jar and class-data archive target/lstmcast.jsa): starts alternate
# between them for N rounds, each a fresh JVM run from its own checkout (the archive only matches its jar there), timed
# from launch to the first 200 from /v2/health/ready (polled every 10 ms). Prints every start and the medians.
#   bench/start_to_ready.sh [CHECKOUT ...]        N=15 CDS=1; CHECKOUT defaults to this one
# e.g. git worktree add /tmp/before <commit> && (cd /tmp/before && ./mvnw -B -q package -DskipTests)
#      bench/start_to_ready.sh /tmp/before .
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
N=${N:-15}; CDS=${CDS:-1}; PORT=${PORT:-18480}
[ $# -gt 0 ] || set -- "$here"
dirs=()
for d in "$@"; do
  d="$(cd "$d" && pwd)"
  [ -f "$d/target/lstmcast.jar" ] || { echo "$d/target/lstmcast.jar missing: ./mvnw -B package -DskipTests there" >&2; exit 1; }
  [ "$CDS" = 0 ] || [ -f "$d/target/lstmcast.jsa" ] || { echo "$d/target/lstmcast.jsa missing (CDS=0 to go without)" >&2; exit 1; }
  dirs+=("$d")
done
pid=
trap '[ -n "$pid" ] && kill "$pid" 2> /dev/null || true' EXIT
declare -A times
for round in $(seq 1 "$N"); do
  for d in "${dirs[@]}"; do
    jvm=()
    [ "$CDS" = 0 ] || jvm=(-XX:SharedArchiveFile=target/lstmcast.jsa)
    start=$(date +%s%N)
    (cd "$d" && exec java "${jvm[@]}" -jar target/lstmcast.jar serve --models "$here/models" --port "$PORT" \
      --grpc-port "$((PORT + 1))" --device cpu --no-console > /dev/null 2>&1) &
    pid=$!
    until curl -sf "http://127.0.0.1:$PORT/v2/health/ready" > /dev/null 2>&1; do
      kill -0 "$pid" 2> /dev/null || { echo "$d: the server exited before ready" >&2; exit 1; }
      sleep 0.01
    done
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    kill "$pid"; wait "$pid" 2> /dev/null || true; pid=
    times[$d]="${times[$d]:-} $ms"
    echo "round $round: $d ready in $ms ms"
  done
done
for d in "${dirs[@]}"; do
  python3 -c 'import statistics, sys; v = [int(x) for x in sys.argv[2].split()]; print(f"{sys.argv[1]}: median {statistics.median(v):.0f} ms, min {min(v)}, max {max(v)} ({len(v)} starts)")' "$d" "${times[$d]}"
done
