#!/usr/bin/env bash
# Installs the peer's one dependency. The install hook of onnxruntime-node tries to download a CUDA provider from
# outside; the CPU binaries ship inside the package, so the hook is skipped.
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund --ignore-scripts >/dev/null
node -e "require('onnxruntime-node'); console.log('onnxruntime-node', require('onnxruntime-node/package.json').version)"
