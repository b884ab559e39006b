#!/usr/bin/env bash
# The training pack of training.recipe in one command: the pipeline's framing of every Training
# and PublicTest face (fer-live measure-framing, the project's MTCNN on each face upscaled 48 ->
# 160 on a mid-gray canvas), then training.pack (images, labels, framings; xz, about 60 MB).
# About 2-3 minutes on 2 cores with the release build and the venv in place.
#
#   tools/make_pack.sh [DATA] [OUT]     (defaults: ../shared's FER2013 CSV, out/gpu/fer2013.npz.xz)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-${FER_SHARED:-../shared}/data/fer2013/fer2013-train-publictest.csv.gz}
OUT=${2:-out/gpu/fer2013.npz.xz}
BIN=.build/release/fer-live
PY=${PYTHON:-.venv/bin/python}
[ -f "$DATA" ] || { echo "make_pack: $DATA: no such file (FER2013 CSV)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "make_pack: $BIN missing; run swift build -c release" >&2; exit 1; }
[ -x "$PY" ] || { echo "make_pack: $PY missing; run make venv (or set PYTHON)" >&2; exit 1; }
framing=out/framing
mkdir -p "$framing"
for usage in Training PublicTest; do
    "$BIN" measure-framing "$DATA" --usage "$usage" --rows 100000 --side 160 --margin 40 \
        --transforms "$framing/$usage.csv" > "$framing/$usage.log"
    echo "make_pack: $usage framings in $framing/$usage.csv"
done
PYTHONPATH=. "$PY" -m training.pack --data "$DATA" --framing "$framing" --out "$OUT"
