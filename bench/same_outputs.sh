#!/usr/bin/env bash
# Converts every Keras and ONNX conversion fixture of the repository (and ../shared/keras when present) with two builds
# and checks that the converted graphs answer the same to the last bit (bench/SameOutputs.java).
#   bench/same_outputs.sh OLD_DIR NEW_DIR    # each DIR holds lstmcast.jar and lib/ (a copy of target/ from that build)
set -euo pipefail
cd "$(dirname "$0")/.."
old="$1"; new="$2"; work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
status=0
for f in src/test/resources/convert/keras/*.h5 src/test/resources/convert/onnx/*.onnx ../shared/keras/models/*.h5; do
  [ -f "$f" ] || continue
  b="$(basename "${f%.*}")"
  java -jar "$old/lstmcast.jar" convert "$f" --out "$work/$b.old.onnx" >/dev/null 2>&1 || { echo "$b: refused by the old build"; continue; }
  java -jar "$new/lstmcast.jar" convert "$f" --out "$work/$b.new.onnx" >/dev/null 2>&1 || { echo "$b: refused by the new build only"; status=1; continue; }
  java -cp "$new/lstmcast.jar:$new/lib/*" bench/SameOutputs.java "$work/$b.old.onnx" "$work/$b.new.onnx" 2>/dev/null || status=1
done
exit $status
