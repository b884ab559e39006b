#!/usr/bin/env bash
# Two fer-live binaries side by side (a change's before and after), alternated run by run on
# the same inputs so that load that comes and goes hits both alike; prints the median of each
# and the ratio NEW / OLD per measure (above 1: NEW is faster).
#
#   tools/bench_binaries.sh OLD_BINARY [NEW_BINARY] [ROUNDS]
#
# NEW defaults to .build/release/fer-live, ROUNDS to 5. Measures: detection on woman2.mp4
# (frames in flight), on the moving 1080p crowd clip (tools/make_moving_crowd_clip.sh) and on
# the generated crowds at 1920x1080 and 640x360 (tools/make_crowd_clip.sh), the
# classifier (`bench classify`, batch 128), and `annotate` of woman2.mp4 end to end, as frames
# per second and as frames per CPU-second of the process (user + system, all threads: steadier
# than wall time on a shared machine). MEASURES="annotate annotate-cpu" picks some of them.
set -euo pipefail
cd "$(dirname "$0")/.."
. tools/bench_lib.sh
OLD=${1:?usage: tools/bench_binaries.sh OLD_BINARY [NEW_BINARY] [ROUNDS]}
NEW=${2:-.build/release/fer-live}
ROUNDS=${3:-5}
SHARED=${FER_SHARED:-../shared}
OUT=out/bench
for b in "$OLD" "$NEW"; do [ -x "$b" ] || { echo "bench_binaries: $b is not an executable" >&2; exit 1; }; done
[ -f "$SHARED/media/woman2.mp4" ] || { echo "bench_binaries: $SHARED/media/woman2.mp4 missing (set FER_SHARED)" >&2; exit 1; }
mkdir -p "$OUT"
MEASURES=${MEASURES:-"detect-woman2 detect-crowd classify annotate annotate-cpu"}
# The generated clips, made once, only for the measures that read them.
CROWD=$OUT/moving-crowd.mp4
[[ " $MEASURES " != *" detect-crowd "* || -f "$CROWD" ]] || tools/make_moving_crowd_clip.sh "$CROWD" >/dev/null
[[ " $MEASURES " != *" detect-crowd1080 "* || -f "$OUT/crowd-1920x1080.mp4" ]] || tools/make_crowd_clip.sh "$OUT/crowd-1920x1080.mp4" 1920 1080 30 >/dev/null
[[ " $MEASURES " != *" detect-crowd640 "* || -f "$OUT/crowd-640x360.mp4" ]] || tools/make_crowd_clip.sh "$OUT/crowd-640x360.mp4" 640 360 50 >/dev/null
MODELS=$(pwd)/models

measure() {  # BINARY MEASURE -> one number (higher is better)
    local bin=$1
    case $2 in
        detect-woman2) "$bin" bench detect "$SHARED/media/woman2.mp4" --models "$MODELS" --mode stream --runs 3 --json | json_field - fps ;;
        detect-crowd) "$bin" bench detect "$CROWD" --models "$MODELS" --mode stream --frames 40 --runs 2 --json | json_field - fps ;;
        detect-crowd1080) "$bin" bench detect "$OUT/crowd-1920x1080.mp4" --models "$MODELS" --mode stream --frames 30 --runs 2 --json | json_field - fps ;;
        detect-crowd640) "$bin" bench detect "$OUT/crowd-640x360.mp4" --models "$MODELS" --mode stream --frames 50 --runs 2 --json | json_field - fps ;;
        classify) "$bin" bench classify --models "$MODELS" --batch 128 --batches 20 --json | json_field - faces_per_second ;;
        annotate)
            local t0 t1
            t0=$(date +%s.%N)
            "$bin" annotate -y "$SHARED/media/woman2.mp4" -o "$OUT/bb.mp4" --csv "$OUT/bb.csv" --models "$MODELS" -q >/dev/null 2>&1
            t1=$(date +%s.%N)
            python3 -c "print(464 / ($t1 - $t0))" ;;
        annotate-cpu)
            python3 - "$bin" "$SHARED/media/woman2.mp4" "$OUT/bb.mp4" "$OUT/bb.csv" "$MODELS" <<'PY'
import resource, subprocess, sys
b, video, out, csv, models = sys.argv[1:]
subprocess.run([b, "annotate", "-y", video, "-o", out, "--csv", csv, "--models", models, "-q"],
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(464 / (r.ru_utime + r.ru_stime))
PY
            ;;
    esac
}

declare -A RESULTS
for round in $(seq 1 "$ROUNDS"); do
    for m in $MEASURES; do
        # Alternate which binary goes first, round by round.
        if (( round % 2 )); then order="old new"; else order="new old"; fi
        for which in $order; do
            bin=$OLD; [ "$which" = new ] && bin=$NEW
            RESULTS[$m.$which]+="$(measure "$bin" "$m") "
        done
    done
    echo "round $round of $ROUNDS done" >&2
done
echo "| measure | old (median) | new (median) | new / old | rounds |"
echo "| --- | --- | --- | --- | --- |"
for m in $MEASURES; do
    python3 - "$m" "${RESULTS[$m.old]}" "${RESULTS[$m.new]}" <<'PY'
import statistics, sys
name, old, new = sys.argv[1], [float(v) for v in sys.argv[2].split()], [float(v) for v in sys.argv[3].split()]
mo, mn = statistics.median(old), statistics.median(new)
ratios = statistics.median(n / o for n, o in zip(new, old))
print(f"| {name} | {mo:.1f} | {mn:.1f} | {ratios:.3f} (median of per-round ratios) | {len(old)} |")
PY
done
