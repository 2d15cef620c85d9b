#!/usr/bin/python3
"""Reads the per-request log of `h2load --log-file` (tab-separated: start in microseconds since the epoch, HTTP
status, microseconds to the end of the response; status -1 for a failed stream) so that a native client can stand
in for `lstmcast bench` in bench/tail.sh and bench/cold_start.sh.

  h2load_log.py latency LOG [SKIP_S]       one JSON object with lstmcast bench's keys (requests_per_s, p50_ms, p90_ms,
                                           p99_ms, p999_ms, max_ms, requests, non_2xx, socket_errors), leaving out
                                           the requests that started in the first SKIP_S seconds
  h2load_log.py slices LOG SLICES STEADY   answers per 1-second slice from the first request's start, one a line:
                                           SLICES slices, then the mean of the STEADY seconds after them
"""
import json
import math
import sys


def rows(path):
    out = []
    for line in open(path):
        parts = line.split()
        if len(parts) >= 3:
            out.append((int(parts[0]), int(parts[1]), int(parts[2])))
    if not out:
        sys.exit(f"{path}: no requests logged")
    return sorted(out)


def percentile(sorted_values, q):
    # Nearest rank, as HdrHistogram reports it for lstmcast bench.
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def latency(path, skip_s):
    r = rows(path)
    first = r[0][0]
    kept = [x for x in r if x[0] >= first + skip_s * 1_000_000]
    ok = sorted(d / 1000 for _, status, d in kept if 200 <= status < 300)
    span = (max(s + d for s, _, d in kept) - min(s for s, _, _ in kept)) / 1e6
    print(json.dumps({
        "requests_per_s": round(len(kept) / span, 1), "p50_ms": percentile(ok, 0.50), "p90_ms": percentile(ok, 0.90),
        "p99_ms": percentile(ok, 0.99), "p999_ms": percentile(ok, 0.999), "max_ms": ok[-1], "requests": len(kept),
        "non_2xx": sum(1 for _, s, _ in kept if s >= 300), "socket_errors": sum(1 for _, s, _ in kept if s < 0),
        "client": "h2load"}))


def slices(path, n, steady):
    r = rows(path)
    first = r[0][0]
    bad = sum(1 for _, s, _ in r if not 200 <= s < 300)
    if bad:
        sys.exit(f"{path}: {bad} requests not answered 2xx")
    counts = [0] * (n + steady)
    for start, _, d in r:
        i = (start + d - first) // 1_000_000
        if i < len(counts):
            counts[i] += 1
    for c in counts[:n]:
        print(c)
    print(sum(counts[n:]) / steady)


if __name__ == "__main__":
    if sys.argv[1] == "latency":
        latency(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 0)
    elif sys.argv[1] == "slices":
        slices(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)
