#!/usr/bin/env python3
"""The Theta half of a global model alone on M3, from each series' training part, in score.py's format.

It runs the NumPy reference of the model's window statistics (src/test/resources/global/normaliser_reference.py,
which NormaliserTest holds equal to the Java and graph computation) with train-global's default lookback, and puts
the seasonal profile back: the forecast a global model makes with its networks left out.
    python3 bench/m3_theta.py ../shared/m3 OUT.csv      then: python3 ../shared/m3/score.py OUT.csv
"""
import csv
import importlib.util
import io
import math
import os
import sys
from contextlib import redirect_stdout

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "reference", os.path.join(here, "..", "src", "test", "resources", "global", "normaliser_reference.py"))
reference = importlib.util.module_from_spec(spec)
with redirect_stdout(io.StringIO()):
    sys.stdin = io.StringIO("")
    spec.loader.exec_module(reference)

M = {"yearly": 1, "quarterly": 4, "monthly": 12, "other": 1}
H = {"yearly": 6, "quarterly": 8, "monthly": 18, "other": 8}
series = {}
for r in csv.DictReader(open(os.path.join(sys.argv[1], "train.csv"))):
    series.setdefault(r["id"], (r["frequency"], []))[1].append(float(r["value"]))
with open(sys.argv[2], "w", newline="") as fh:
    w = csv.writer(fh)
    w.writerow(["id", "step", "forecast"])
    for sid, (freq, values) in series.items():
        m, h = M[freq], H[freq]
        lookback = -(-max(6 * h, 4 * m) // m) * m
        out = reference.normalise({"lookback": lookback, "steps": min(lookback, max(2 * h, 4 * m)), "season": m,
                                   "horizon": h, "scale": "log", "history": values})
        for step in range(1, h + 1):
            w.writerow([sid, step, math.exp(out["theta"][step - 1] + out["profile"][(step - 1) % m])])
