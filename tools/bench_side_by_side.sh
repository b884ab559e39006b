#!/usr/bin/env bash
# Every speed and accuracy figure of the README, measured side by side in one run on this machine:
# fer-live against facenet-pytorch's MTCNN (detection), against ffmpeg decoding and re-encoding
# (annotate), and the classifier through `fer-live eval`. Prints a Markdown table and keeps the
# raw JSON lines in OUT (default: out/bench).
#
#   tools/bench_side_by_side.sh [SHARED] [OUT]
#
# Needs a release build (`swift build -c release`), the shared data (../shared or $FER_SHARED)
# and a Python with torch + facenet-pytorch 2.5.3 for the reference ($PYTHON, default .venv or
# /work/venv). The machine should be otherwise idle: the reference and fer-live run one after
# the other on the same frames, so load that comes and goes skews the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${1:-${FER_SHARED:-../shared}}
OUT=${2:-out/bench}
BIN=.build/release/fer-live
. tools/bench_lib.sh
PY=$(reference_python)
[ -x "$BIN" ] || { echo "bench_side_by_side: $BIN missing; run swift build -c release" >&2; exit 1; }
[ -d "$SHARED/media" ] || { echo "bench_side_by_side: $SHARED/media missing (set FER_SHARED)" >&2; exit 1; }
mkdir -p "$OUT"
last() { tail -n 1 "$1"; }
field() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(d.get('$2', ''))" <<<"$(last "$1")"; }

# Crowd clips: generated from the public-domain astronaut picture, not committed.
[ -f "$OUT/crowd-640x360.mp4" ] || tools/make_crowd_clip.sh "$OUT/crowd-640x360.mp4" 640 360 50 >/dev/null
[ -f "$OUT/crowd-1920x1080.mp4" ] || tools/make_crowd_clip.sh "$OUT/crowd-1920x1080.mp4" 1920 1080 30 >/dev/null

# Detection: three rounds per input, each timing fer-live (both modes) and then facenet-pytorch
# (2 and 1 threads) once on the same frames. The ratio is taken within each round and the median
# of the rounds reported: on a VM whose host load comes and goes, a block of three runs of one
# tool followed by three of the other measured the two under different loads.
echo "| input | frames | fer-live one frame at a time | fer-live frames in flight | facenet-pytorch 2 threads | 1 thread | ratio (median of rounds: best of each) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for spec in "$SHARED/media/woman2.mp4:100" "$SHARED/media/test.mp4:100" "$OUT/crowd-640x360.mp4:50" "$OUT/crowd-1920x1080.mp4:30"; do
    input=${spec%:*}; n=${spec##*:}; name=$(basename "$input" .mp4)
    of=(); os=(); r2s=(); r1s=(); ratios=()
    for round in 1 2 3; do
        "$BIN" bench detect "$input" --frames "$n" --mode both --runs 1 --json > "$OUT/detect-$name-$round.txt"
        f=$(field "$OUT/detect-$name-$round.txt" fps_frame); st=$(field "$OUT/detect-$name-$round.txt" fps_stream)
        faces=$(field "$OUT/detect-$name-$round.txt" faces)
        of+=("$f"); os+=("$st")
        if [ -n "$PY" ]; then
            "$PY" tools/bench_reference_mtcnn.py "$input" --frames "$n" --runs 1 --threads 2 --json > "$OUT/ref2-$name-$round.txt"
            "$PY" tools/bench_reference_mtcnn.py "$input" --frames "$n" --runs 1 --threads 1 --json > "$OUT/ref1-$name-$round.txt"
            r2=$(field "$OUT/ref2-$name-$round.txt" fps); r1=$(field "$OUT/ref1-$name-$round.txt" fps)
            rfaces=$(field "$OUT/ref2-$name-$round.txt" faces)
            r2s+=("$r2"); r1s+=("$r1")
            ratios+=("$(python3 -c "print(max($f, $st) / max($r1, $r2))")")
        fi
    done
    if [ -n "$PY" ]; then
        echo "| $name | $n | $(fmt "$(median "${of[@]}")") fps | $(fmt "$(median "${os[@]}")") fps ($faces faces) | $(fmt "$(median "${r2s[@]}")") fps ($rfaces faces) | $(fmt "$(median "${r1s[@]}")") fps | $(fmt "$(median "${ratios[@]}")")x (rounds: $(for r in "${ratios[@]}"; do printf '%s ' "$(fmt "$r")"; done | sed 's/ $//')) |"
    else
        echo "| $name | $n | $(fmt "$(median "${of[@]}")") fps | $(fmt "$(median "${os[@]}")") fps ($faces faces) | (no facenet-pytorch) | | |"
    fi
done
echo
"$BIN" bench pipeline "$SHARED/media/woman2.mp4" --runs 3 --json > "$OUT/pipeline.txt"
echo "annotate woman2.mp4: $(fmt "$(field "$OUT/pipeline.txt" fps)") fps; ffmpeg decode + libx264 veryfast: $(fmt "$(field "$OUT/pipeline.txt" ffmpeg_fps)") fps; ratio $(fmt "$(field "$OUT/pipeline.txt" ratio)" 2)"
CSV="$SHARED/data/fer2013/fer2013-train-publictest.csv.gz"
for spec in "fernet:" "fernet:--flip" "cnn_small:"; do
    model=${spec%%:*}; extra=${spec#*:}
    f="$OUT/eval-$model${extra:+-flip}.txt"
    "$BIN" eval "$CSV" --model "$model" $extra --json > "$f" 2>/dev/null
    echo "eval $model $extra PublicTest: accuracy $(python3 -c "print(f'{100*float(\"$(field "$f" accuracy)\"):.2f}%')"), $(fmt "$(field "$f" faces_per_second)" 0) faces/s"
done
"$BIN" bench decode "$SHARED/media/woman2.mp4" --runs 5 --json > "$OUT/decode.txt"
echo "decode woman2.mp4: $(fmt "$(field "$OUT/decode.txt" fps)") fps"
