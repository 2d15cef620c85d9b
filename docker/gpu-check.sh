#!/usr/bin/env bash
# Proves the CUDA path on a machine with an NVIDIA GPU (driver >= 525.60.13, CUDA 12 and cuDNN 9 libraries):
# builds the CPU program and the -Pgpu program, serves the bundled models with each (--device cpu / --device cuda),
# checks that CUDA is the provider really in use and that both give the same forecasts within 1e-4, and prints
# latency and throughput for batches of 1, 64 and 512 windows on CPU and on CUDA side by side.
#   docker/gpu-check.sh            (from the repository root or anywhere; needs a JDK 17 and Maven Central)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="${GPU_CHECK_DIR:-$(mktemp -d)}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

echo "== building the CPU and the GPU program"
./mvnw -B -q package -DskipTests
rm -rf "$work/cpu" && mkdir -p "$work/cpu" && cp -r target/lstmcast.jar target/lib "$work/cpu/"
./mvnw -B -q -Pgpu package -DskipTests
rm -rf "$work/gpu" && mkdir -p "$work/gpu" && cp -r target/lstmcast.jar target/lib "$work/gpu/"
# Leave target/ as the ordinary CPU build.
./mvnw -B -q package -DskipTests

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "(nvidia-smi not found)"

echo "== starting both servers on the bundled models"
java -jar "$work/cpu/lstmcast.jar" serve --models models --device cpu --port 18501 --grpc-port 0 > "$work/cpu.log" 2>&1 &
cpu=$!
java -jar "$work/gpu/lstmcast.jar" serve --models models --device cuda --port 18502 --grpc-port 0 > "$work/gpu.log" 2>&1 &
gpu=$!
trap 'kill $cpu $gpu 2>/dev/null || true' EXIT
for port in 18501 18502; do
  for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$port/v2/health/ready" > /dev/null 2>&1 && break
    sleep 1
  done
done
if ! curl -fsS http://127.0.0.1:18502/v2/health/ready > /dev/null; then
  echo "the CUDA server did not start:"; cat "$work/gpu.log"; exit 1
fi

echo "== comparing and timing"
java "$root/docker/GpuCheck.java" http://127.0.0.1:18501 http://127.0.0.1:18502
