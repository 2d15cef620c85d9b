#!/usr/bin/python3
"""The PyTorch reference for lstmcast's training speed: the same network, data, windows and batch size as
`lstmcast train` with its defaults on the bundled DAX (one LSTM layer of 32, tanh, a dense head of 5, lookback 30,
first differences standardised on the training rows, Adam 1e-3, MSE, batches of 32, shuffled).
Runs on Debian's python3-torch. Prints JSON: {"seconds_per_epoch": [...], "threads": n}.
  /usr/bin/python3 bench/train_reference.py [EPOCHS] [THREADS]
"""
import csv
import json
import math
import os
import sys
import time

import numpy as np
import torch

epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
threads = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("OMP_NUM_THREADS", "1"))
torch.set_num_threads(threads)
torch.manual_seed(42)

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(root, "data", "eustockmarkets_daily.csv")) as f:
    y = np.array([float(r["DAX"]) for r in csv.DictReader(f)])
n = len(y)
test = math.ceil(0.2 * n)
rest = n - test
val = math.ceil(0.1 * rest)
train_end = rest - val
lookback, horizon = 30, 5

d = np.diff(y[:train_end])
mean, std = d.mean(), d.std(ddof=1)
xs, ys = [], []
for t in range(lookback - 1, train_end - 1 - horizon + 1):
    w = y[t - lookback + 1:t + 1]
    xs.append((np.diff(w) - mean) / std)
    fut = y[t + 1:t + 1 + horizon]
    ys.append((np.diff(np.concatenate([[w[-1]], fut])) - mean) / std)
x = torch.tensor(np.array(xs), dtype=torch.float32).unsqueeze(-1)
t = torch.tensor(np.array(ys), dtype=torch.float32)


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(1, 32, batch_first=True)
        self.head = torch.nn.Linear(32, horizon)

    def forward(self, v):
        out, _ = self.lstm(v)
        return self.head(out[:, -1, :])


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
loss_fn = torch.nn.MSELoss()
times = []
for epoch in range(epochs):
    start = time.perf_counter()
    perm = torch.randperm(len(x))
    for i in range(0, len(x), 32):
        idx = perm[i:i + 32]
        opt.zero_grad()
        loss = loss_fn(net(x[idx]), t[idx])
        loss.backward()
        opt.step()
    times.append(time.perf_counter() - start)
print(json.dumps({"seconds_per_epoch": times, "threads": threads, "windows": len(x)}))
