#!/usr/bin/env python3
"""An independent NumPy computation of a global model's window statistics, for NormaliserTest.

Reads one JSON object per line on stdin: {"lookback", "steps", "season", "horizon", "scale", "history"}; writes one per
line: {"input" [3][steps], "level", "profile" [season], "theta" [horizon]}. Written from the method's definition
(docs in Normaliser's javadoc), not from the Java code: the profile from a block matrix, the trend by numpy.polyfit,
exponential smoothing as a product with its weight matrix, the soft choice of weight by a softmax.
"""
import json
import sys

import numpy as np

ALPHAS = np.arange(1, 20) * 0.05
TEMPERATURE = 0.05
FLOOR = 1e-20


def normalise(q):
    L, S, m, H = q["lookback"], q["steps"], q["season"], q["horizon"]
    x = np.asarray(q["history"], dtype=np.float64)[-L:]
    n = len(x)
    if q["scale"] == "log":
        y_real = np.log(np.maximum(x, FLOOR))
        divisor = 1.0
    else:
        divisor = max(np.mean(np.abs(x)), FLOOR)
        y_real = x / divisor
    pad = L - n
    y = np.concatenate([np.zeros(pad), y_real])
    profile = np.zeros(m)
    whole = n // m
    if m > 1 and whole >= 2:
        blocks = y[L - whole * m:].reshape(whole, m)
        means = blocks.mean(axis=1)
        slope = (means[-1] - means[0]) / ((whole - 1) * m)
        ramp = slope * (np.arange(m) - (m - 1) / 2)
        dev = blocks - means[:, None] - ramp[None, :]
        s = dev.mean(axis=0)
        sigma2 = ((dev - s) ** 2).sum() / ((whole - 1) * m)
        profile = s * max(0.0, 1 - (sigma2 / whole) / (np.mean(s ** 2) + 1e-12))
    seasonal = np.tile(profile, L // m)
    adjusted = y_real - seasonal[pad:]
    last = y[max(pad, L - m):]
    level = last.mean()
    # Theta: SES for every weight as a matrix product, the soft minimum of one-step errors, half the OLS slope.
    t = np.arange(n)
    slope = np.polyfit(t, adjusted, 1)[0] if n > 1 else 0.0
    levels = []
    sse = []
    for a in ALPHAS:
        w = np.array([[(1 - a) ** i if j == 0 else (a * (1 - a) ** (i - j) if j <= i else 0.0) for j in range(n)]
                      for i in range(n)])
        lv = w @ adjusted
        levels.append(lv[-1])
        sse.append(np.sum((adjusted[1:] - lv[:-1]) ** 2))
    sse = np.asarray(sse)
    score = np.exp(-(sse / (sse.min() + 1e-12) - 1) / TEMPERATURE)
    weight = score / score.sum()
    h = np.arange(1, H + 1)
    fc = np.array([lv + 0.5 * slope * (h - 1 + 1 / a - (1 - a) ** n / a) for lv, a in zip(levels, ALPHAS)])
    theta = weight @ fc
    inputs = np.zeros((3, S))
    for i in range(S):
        pos = L - S + i
        if pos >= pad:
            inputs[0, i] = y[pos] - profile[pos % m] - level
            inputs[1, i] = profile[pos % m]
            inputs[2, i] = 1.0
    return {"input": inputs.tolist(), "level": level, "profile": profile.tolist(), "theta": theta.tolist(),
            "divisor": divisor}


for line in sys.stdin:
    if line.strip():
        print(json.dumps(normalise(json.loads(line))))
