#!/usr/bin/python3
"""The PyTorch reference for train-global's training throughput: the same network (one LSTM layer of 48 units over 3
input features, a linear head on the last step), the mean absolute error, Adam 3e-3, gradients clipped to norm 1 per
layer, batches of 128 prepared windows made once and reused, as bench/GlobalTrainingSpeed.java fits them in DL4J.
Runs on Debian's python3-torch. Prints one JSON line with windows per second in five timed rounds.
  OMP_NUM_THREADS=1 /usr/bin/python3 bench/global_reference.py STEPS HORIZON [BATCHES]
"""
import json
import os
import statistics
import sys
import time

import torch

steps, horizon = int(sys.argv[1]), int(sys.argv[2])
batches = int(sys.argv[3]) if len(sys.argv) > 3 else 64
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
torch.manual_seed(1)
batch = 128


class Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 48, batch_first=True)
        self.head = torch.nn.Linear(48, horizon)

    def forward(self, v):
        out, _ = self.lstm(v)
        return self.head(out[:, -1, :])


net = Net()
opt = torch.optim.Adam(net.parameters(), lr=3e-3)
loss_fn = torch.nn.L1Loss()
data = [(torch.randn(batch, steps, 3), torch.randn(batch, horizon)) for _ in range(16)]
rates = []
for rnd in range(6):
    start = time.perf_counter()
    for b in range(batches):
        x, y = data[b % len(data)]
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        torch.nn.utils.clip_grad_norm_(net.lstm.parameters(), 1.0)
        torch.nn.utils.clip_grad_norm_(net.head.parameters(), 1.0)
        opt.step()
    seconds = time.perf_counter() - start
    if rnd > 0:
        # Round 0 warms the allocator and is not counted.
        rates.append(batches * batch / seconds)
print(json.dumps({"windows_per_second": [round(r, 1) for r in rates], "median": round(statistics.median(rates), 1),
                  "steps": steps, "horizon": horizon}))
