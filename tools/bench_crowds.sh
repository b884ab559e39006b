#!/usr/bin/env bash
# Full detection on the multi-face clips, side by side with facenet-pytorch's MTCNN in one run:
# per round and clip, `fer-live bench detect` (frames in flight, as `fer-live detect` runs), an
# optional second fer-live binary (a change's before), then the reference with two threads on
# the same frames. Prints a Markdown table: medians of fps and of the per-round ratios, with the
# rounds, and the CPU's vector extension (the kernels block their registers by it).
#
#   tools/bench_crowds.sh [ROUNDS] [OLD_BINARY]        (default 3 rounds; raw lines in out/bench/crowds/)
#
# Clips: the moving 1080p clip (tools/make_moving_crowd_clip.sh, real faces in motion), the
# generated crowd at 1920x1080 and 640x360 (tools/make_crowd_clip.sh), and ../shared's
# audience.mp4 (a real audience, 640x360). Needs a release build and a Python with torch and
# facenet-pytorch 2.5.3 ($PYTHON, .venv or /work/venv). Run it on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
OLD=${2:-}
SHARED=${FER_SHARED:-../shared}
BIN=.build/release/fer-live
OUT=out/bench/crowds
. tools/bench_lib.sh
PY=$(reference_python)
[ -x "$BIN" ] || { echo "bench_crowds: $BIN missing; run swift build -c release" >&2; exit 1; }
[ -n "$PY" ] || { echo "bench_crowds: no Python with facenet_pytorch (set PYTHON)" >&2; exit 1; }
[ -z "$OLD" ] || [ -x "$OLD" ] || { echo "bench_crowds: $OLD is not an executable" >&2; exit 1; }
[ -f "$SHARED/media/audience.mp4" ] || { echo "bench_crowds: $SHARED/media/audience.mp4 missing (set FER_SHARED)" >&2; exit 1; }
mkdir -p "$OUT"
[ -f out/bench/moving-crowd.mp4 ] || tools/make_moving_crowd_clip.sh out/bench/moving-crowd.mp4 "$SHARED/media" >/dev/null
[ -f out/bench/crowd-1920x1080.mp4 ] || tools/make_crowd_clip.sh out/bench/crowd-1920x1080.mp4 1920 1080 30 >/dev/null
[ -f out/bench/crowd-640x360.mp4 ] || tools/make_crowd_clip.sh out/bench/crowd-640x360.mp4 640 360 50 >/dev/null
MODELS=$(pwd)/models
isa=$(grep -qw avx512f /proc/cpuinfo && echo AVX-512 || (grep -qw avx2 /proc/cpuinfo && echo AVX2 || echo "no AVX2"))

clips=("out/bench/moving-crowd.mp4:30" "out/bench/crowd-1920x1080.mp4:30" "out/bench/crowd-640x360.mp4:50" "$SHARED/media/audience.mp4:100")
declare -A NEW OLDF REF RATIO FACES RFACES
for round in $(seq 1 "$ROUNDS"); do
    for spec in "${clips[@]}"; do
        input=${spec%:*}; n=${spec##*:}; name=$(basename "$input" .mp4)
        "$BIN" bench detect "$input" --models "$MODELS" --frames "$n" --mode stream --runs 1 --json > "$OUT/new-$name-$round.txt"
        if [ -n "$OLD" ]; then
            "$OLD" bench detect "$input" --models "$MODELS" --frames "$n" --mode stream --runs 1 --json > "$OUT/old-$name-$round.txt"
            OLDF[$name]+="$(json_field "$OUT/old-$name-$round.txt" fps) "
        fi
        "$PY" tools/bench_reference_mtcnn.py "$input" --frames "$n" --runs 1 --threads 2 --json > "$OUT/ref-$name-$round.txt"
        f=$(json_field "$OUT/new-$name-$round.txt" fps); r=$(json_field "$OUT/ref-$name-$round.txt" fps)
        NEW[$name]+="$f "; REF[$name]+="$r "; RATIO[$name]+="$(python3 -c "print($f / $r)") "
        FACES[$name]=$(json_field "$OUT/new-$name-$round.txt" faces); RFACES[$name]=$(json_field "$OUT/ref-$name-$round.txt" faces)
        echo "round $round $name: fer-live $f fps, reference $r fps" >&2
    done
done
echo "Full detection, $ROUNDS rounds, $(nproc) cores ($isa), $(date -u +%Y-%m-%d):"
echo
if [ -n "$OLD" ]; then
    echo "| clip | frames | fer-live fps | before ($OLD) | facenet-pytorch fps (2 threads) | faces (fer-live / reference) | ratio, median (rounds) |"
    echo "| --- | --- | --- | --- | --- | --- | --- |"
else
    echo "| clip | frames | fer-live fps | facenet-pytorch fps (2 threads) | faces (fer-live / reference) | ratio, median (rounds) |"
    echo "| --- | --- | --- | --- | --- | --- |"
fi
for spec in "${clips[@]}"; do
    input=${spec%:*}; n=${spec##*:}; name=$(basename "$input" .mp4)
    rounds=$(for r in ${RATIO[$name]}; do printf '%s, ' "$(fmt "$r" 2)"; done | sed 's/, $//')
    old=""
    [ -z "$OLD" ] || old=" $(fmt "$(median ${OLDF[$name]})") |"
    echo "| $name | $n | $(fmt "$(median ${NEW[$name]})") |$old $(fmt "$(median ${REF[$name]})" 2) | ${FACES[$name]} / ${RFACES[$name]} | **$(fmt "$(median ${RATIO[$name]})")x** ($rounds) |"
done
