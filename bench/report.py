#!/usr/bin/env python3
"""Turns the JSON files bench/run.sh wrote into a dated section of docs/BENCHMARKS.md (medians over rounds)."""
import datetime
import glob
import json
import os
import platform
import statistics
import subprocess
import sys

out, command = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rounds(prefix):
    """{concurrency: [row per round]} for files prefix-<round>.json."""
    by = {}
    for path in sorted(glob.glob(os.path.join(out, prefix + "-*.json"))):
        for row in json.load(open(path)):
            by.setdefault(row["concurrency"], []).append(row)
    return by


def med(rows, key):
    values = [r[key] for r in rows if key in r]
    return statistics.median(values) if values else float("nan")


def sweep(name, prefix):
    lines = []
    for c, rows in sorted(rounds(prefix).items()):
        lines.append(f"| {name} | {c} | {med(rows, 'requests_per_s'):,.0f} | {med(rows, 'forecasts_per_s'):,.0f} | "
                     f"{med(rows, 'p50_ms'):.3f} | {med(rows, 'p90_ms'):.3f} | {med(rows, 'p99_ms'):.3f} | "
                     f"{med(rows, 'p999_ms'):.3f} | {med(rows, 'non_2xx'):.0f} | "
                     f"{med(rows, 'mean_batch'):.2f} |".replace("| nan |", "| - |"))
    return lines


def get(prefix, c, key):
    return med(rounds(prefix).get(c, []), key)


engine1 = {r["batch"]: r for r in json.load(open(os.path.join(out, "engine-1.json")))}
engine2 = {r["batch"]: r for r in json.load(open(os.path.join(out, "engine-2.json")))}
startup = json.load(open(os.path.join(out, "startup.json")))
rss_after = json.load(open(os.path.join(out, "rss-after.json")))
train_rounds = sorted(d for d in os.listdir(out) if d.startswith("train-run-"))
lstm_epochs = [e for d in train_rounds for e in json.load(open(os.path.join(out, d, "metrics.json")))["epoch_seconds"]]
torch_epochs = [e for f in sorted(os.listdir(out)) if f.startswith("torch-")
                for e in json.load(open(os.path.join(out, f)))["seconds_per_epoch"]]
# Both sides: the median epoch over all rounds, so the first epoch's warm-up (JIT here, allocator there) weighs the same.
lstm_epoch = statistics.median(lstm_epochs)
lstm_mean, torch_mean = statistics.mean(lstm_epochs), statistics.mean(torch_epochs)
torch_epoch = statistics.median(torch_epochs)
java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
peer = open(os.path.join(out, "peer-version.txt")).read().strip()
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())

c64 = get("lstmcast-1", 64, "requests_per_s") / get("peer-1", 64, "requests_per_s")
batching = get("lstmcast-1", 64, "requests_per_s") / get("nobatch-1", 64, "requests_per_s")
idle = get("lstmcast-1", 1, "p50_ms") / get("nobatch-1", 1, "p50_ms")
wide = get("lstmcast-64", 16, "forecasts_per_s") / max(engine1[64]["forecasts_per_s"], engine2[64]["forecasts_per_s"])

model_path = os.path.join(out, "model.txt")
model_file = open(model_path).read().strip() if os.path.exists(model_path) else "models/dax/1/model.onnx"

section = [
    f"## Side-by-side run of {datetime.date.today().isoformat()}",
    "",
    f"Machine: {os.cpu_count()} cores ({cpu}), {java}, {peer}, Linux {platform.release()}. Command: `{command}`.",
    (f"Model: `{model_file}` served as `dax`. Medians of the rounds;" if model_file != "models/dax/1/model.onnx" else
     "Model: the bundled `models/dax/1/model.onnx` as the repository holds it at the run (see the top of this page). Medians of the rounds;"),
    "the load generator shares the cores with the server, so the ratios are the figures to trust.",
    "",
    "| server | concurrency | requests/s | forecasts/s | p50 ms | p90 ms | p99 ms | p99.9 ms | non-2xx | mean batch |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    *sweep("lstmcast", "lstmcast-1"),
    *sweep("lstmcast, batching off", "nobatch-1"),
    *sweep("node + onnxruntime-node", "peer-1"),
    *sweep("lstmcast, 64 windows/request", "lstmcast-64"),
    *sweep("node peer, 64 windows/request", "peer-64"),
    "",
    "| engine alone (in-process) | batch 1 | batch 64 |",
    "| --- | --- | --- |",
    f"| 1 calling thread, forecasts/s | {engine1[1]['forecasts_per_s']:,.0f} | {engine1[64]['forecasts_per_s']:,.0f} |",
    f"| 2 calling threads, forecasts/s | {engine2[1]['forecasts_per_s']:,.0f} | {engine2[64]['forecasts_per_s']:,.0f} |",
    "",
    "| target | measured | met |",
    "| --- | --- | --- |",
    f"| c=64 requests/s ≥ 2.5x the Node peer, p99 no worse | {c64:.2f}x, p99 {get('lstmcast-1', 64, 'p99_ms'):.1f} vs "
    f"{get('peer-1', 64, 'p99_ms'):.1f} ms | {'yes' if c64 >= 2.5 and get('lstmcast-1', 64, 'p99_ms') <= get('peer-1', 64, 'p99_ms') else 'no'} |",
    f"| c=1 p50 within 10% of batching off | {idle:.2f}x | {'yes' if idle <= 1.10 else 'no'} |",
    f"| c=1 p50 ≤ 0.4 ms, p99 ≤ 2 ms | {get('lstmcast-1', 1, 'p50_ms'):.3f} / {get('lstmcast-1', 1, 'p99_ms'):.3f} ms | "
    f"{'yes' if get('lstmcast-1', 1, 'p50_ms') <= 0.4 and get('lstmcast-1', 1, 'p99_ms') <= 2 else 'no'} |",
    f"| batching on vs off at c=64 ≥ 3x | {batching:.2f}x | {'yes' if batching >= 3 else 'no'} |",
    f"| 64 windows/request ≥ 60% of the engine at batch 64 | {wide:.0%} | {'yes' if wide >= 0.6 else 'no'} |",
    f"| ready ≤ 3 s | {startup['ready_ms']} ms | {'yes' if startup['ready_ms'] <= 3000 else 'no'} |",
    f"| RSS with the bundled models < 400 MB | {startup['rss_mb']} MB at ready ({rss_after['rss_mb_after']} MB after the "
    f"sweeps, default heap limit) | {'yes' if startup['rss_mb'] < 400 else 'no'} |",
    f"| training epoch ≤ 1.5x PyTorch (median epoch of 10 per round, rounds alternating; means in brackets) | {lstm_epoch:.2f} s vs {torch_epoch:.2f} s = {lstm_epoch / torch_epoch:.2f}x "
    f"({lstm_mean:.2f} vs {torch_mean:.2f} s = {lstm_mean / torch_mean:.2f}x) | "
    f"{'yes' if lstm_epoch <= 1.5 * torch_epoch else 'no'} |",
    "",
]
path = os.path.join(root, "docs", "BENCHMARKS.md")
text = open(path).read() if os.path.exists(path) else "# Benchmarks and long runs\n"
marker_start, marker_end = "<!-- side-by-side: start -->", "<!-- side-by-side: end -->"
block = marker_start + "\n" + "\n".join(section) + "\n" + marker_end
if marker_start in text:
    text = text[:text.index(marker_start)] + block + text[text.index(marker_end) + len(marker_end):]
else:
    text = text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
print("\n".join(section))
