#!/usr/bin/env python3
"""The seasonal anchors alone, no network: how much carrying the anchor's last error forward changes them.

Reads what bench/forecast_anchors.py left in OUT_DIR (each series' CSV and its run's metrics.json, for the split,
season, lookback and horizon `train` used) and recomputes in NumPy, independently of lstmcast's code, the forecast
`anchor + shift + carry[h] * error` from every origin, where `error` is the anchor's error at the origin's own row
and `carry[h]` the least-squares slope fitted on the training origins: not carried (0), fitted freely, and held
between 0 and the step before's (as `train` does). Prints test RMSE at step 1 and on the mean of the steps, and
the validation RMSE that `auto` would see (docs/BENCHMARKS.md, "The anchor's error, carried").

    python3 bench/anchor_carry.py OUT_DIR
"""
import csv
import json
import math
import os
import sys

import numpy as np


def lag(h, s):
    return s * ((h + s - 1) // s) - h


def main():
    out = sys.argv[1]
    print("| series | anchor | not carried, test step 1 / mean | fitted freely | held in [0, previous] | carry held | validation mean RMSE (not carried / held) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in sorted(os.listdir(out)):
        metrics = os.path.join(out, name, "metrics.json")
        if not os.path.exists(metrics):
            continue
        m = json.load(open(metrics))
        s = m["season"]["period"]
        if s < 2:
            continue
        y = np.array([float(r["value"]) for r in csv.DictReader(open(os.path.join(out, name + ".csv")))])
        tr, ve = m["data"]["train_rows"], m["data"]["train_rows"] + m["data"]["val_rows"]
        lookback, horizon = m["config"]["lookback"], m["config"]["horizon"]
        for k, label in ((1, "seasonal"), (2, "seasonal-mean")):
            if lookback < k * s + 1:
                continue

            def anchor(o, h):
                return np.mean([y[o - lag(h, s) - j * s] for j in range(k)])

            def error(o):
                return y[o] - anchor(o - 1, 1)

            origins = range(lookback - 1, tr - horizon)
            fits = []
            for h in range(1, horizon + 1):
                x = np.array([error(o) for o in origins])
                r = np.array([y[o + h] - anchor(o, h) for o in origins])
                fits.append((x, r, np.cov(x, r)[0, 1] / np.var(x, ddof=1)))
            held, previous = [], math.inf
            for _, _, slope in fits:
                previous = min(max(0.0, slope), previous)
                held.append(previous)
            cells, val = [], []
            for carry in ([0.0] * horizon, [f[2] for f in fits], held):
                test_rmse, val_rmse = [], []
                for h in range(1, horizon + 1):
                    x, r, _ = fits[h - 1]
                    shift = np.mean(r - carry[h - 1] * x)

                    def f(t):
                        return anchor(t - h, h) + shift + carry[h - 1] * error(t - h)
                    test_rmse.append(math.sqrt(np.mean([(y[t] - f(t)) ** 2 for t in range(ve, len(y))])))
                    val_rmse.append(math.sqrt(np.mean([(y[t] - f(t)) ** 2 for t in range(tr, ve)])))
                cells.append(f"{test_rmse[0]:.4g} / {np.mean(test_rmse):.4g}")
                val.append(np.mean(val_rmse))
            print(f"| {name} | {label} | {cells[0]} | {cells[1]} | {cells[2]} | {' '.join(f'{c:.2f}' for c in held)} | "
                  f"{val[0]:.4g} / {val[2]:.4g} |")


if __name__ == "__main__":
    main()
