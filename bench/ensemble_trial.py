#!/usr/bin/env python3
"""How many networks an ensemble needs: single networks with several seeds, combined afterwards.

Reads a bench/forecast_anchors.py output directory (its CSVs, and each series' transform that `auto` kept), trains one
network per seed on that transform (`--ensemble 1 --seed S`), and scores on the test part: each seed alone, and the
mean (and median) of the first K seeds' forecasts as read from predictions.csv. Prints a Markdown table
(docs/BENCHMARKS.md, "Ensembles"). R is not needed; the anchors come from the directory's anchors.json.

    python3 bench/ensemble_trial.py ANCHORS_DIR [OUT_DIR]        SEEDS="42 1 2 3 4" by default
"""
import csv
import json
import math
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def forecasts(path):
    """predictions.csv: forecast_k on a row is the forecast of that row's value made k steps before."""
    with open(path) as f:
        rows = list(csv.DictReader(f))
    horizon = sum(1 for k in rows[0] if k.startswith("forecast_"))
    actual = [float(r["actual"]) for r in rows]
    fc = [[float(r[f"forecast_{k}"]) for k in range(1, horizon + 1)] for r in rows]
    return actual, fc


def rmse(actual, members, combine):
    out = []
    for h in range(len(members[0][0])):
        e = [(combine([m[i][h] for m in members]) - actual[i]) ** 2 for i in range(len(actual))]
        out.append(math.sqrt(sum(e) / len(e)))
    return out


def main():
    anchors_dir = os.path.abspath(sys.argv[1])
    out = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "target", "ensemble-trial"))
    seeds = [int(s) for s in os.environ.get("SEEDS", "42 1 2 3 4").split()]
    anchors = {a["name"]: a for a in json.load(open(os.path.join(anchors_dir, "anchors.json")))}
    print("| series | kept | seeds alone, mean RMSE over the steps | first 3, mean | all, mean | all, median | "
          "better of ETS, ARIMA |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, a in anchors.items():
        members = []
        for s in seeds:
            run = os.path.join(out, f"{name}-{s}")
            if not os.path.exists(os.path.join(run, "predictions.csv")):
                subprocess.run(["java", "-jar", os.path.join(ROOT, "target", "lstmcast.jar"), "train", "--data",
                                os.path.join(anchors_dir, name + ".csv"), "--target", "value", "--time-column", "t",
                                "--quiet", "--out", run, "--transform", a["transform"], "--ensemble", "1",
                                "--seed", str(s)], check=True)
            members.append(forecasts(os.path.join(run, "predictions.csv")))
        actual = members[0][0]
        fcs = [m[1] for m in members]
        alone = [statistics.mean(rmse(actual, [f], statistics.mean)) for f in fcs]
        best = min(statistics.mean(a["ets"]), statistics.mean(a["arima"]))
        print(f"| {name} | {a['transform']} | {', '.join(f'{v:.4g}' for v in alone)} | "
              f"{statistics.mean(rmse(actual, fcs[:3], statistics.mean)):.4g} | "
              f"{statistics.mean(rmse(actual, fcs, statistics.mean)):.4g} | "
              f"{statistics.mean(rmse(actual, fcs, statistics.median)):.4g} | {best:.4g} |")


if __name__ == "__main__":
    main()
