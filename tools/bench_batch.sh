#!/usr/bin/env bash
# `make bench-batch`: fer-live batch against the same work as separate runs, side by side.
#
#   1. batch over N copies (symbolic links) of woman2.mp4 with --csv, against N separate
#      `fer-live log COPY --csv OUT` runs; the two alternate (ABBA order) ROUNDS times so that
#      load from other work on the machine falls on both;
#   2. the per-input overhead: the same two with --max-frames 1, where nearly all that is left
#      is start-up, model loading, opening and closing each input;
#   3. one batch process against two at a time (two shards run together), also alternated.
# Release build; prints seconds per variant and the ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${FER_LIVE:-$here/.build/release/fer-live}
VIDEO=${VIDEO:-$(cd "$here/.." && pwd)/shared/media/woman2.mp4}
N=${N:-20}
ROUNDS=${ROUNDS:-2}
[ -x "$BIN" ] || { echo "$BIN is missing (make build)" >&2; exit 1; }
[ -f "$VIDEO" ] || { echo "$VIDEO is missing (set VIDEO=...)" >&2; exit 1; }

work=$(mktemp -d /tmp/fer-bench-batch.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in"
for i in $(seq -w 1 "$N"); do ln -s "$VIDEO" "$work/in/copy$i.mp4"; done

declare -A total count cpu
# measure NAME FUNCTION [ARGS...]: wall-clock seconds, and CPU seconds of the processes it ran
# (user + system), so that the CPU share shows whether one process left a core idle.
measure() {
  local name=$1; shift
  local TIMEFORMAT='%3R %3U %3S' t
  t=$( { time "$@" >/dev/null 2>&1; } 2>&1 )
  read -r wall user sys <<<"$t"
  total[$name]=$(echo "${total[$name]:-0} + $wall" | bc -l)
  cpu[$name]=$(echo "${cpu[$name]:-0} + $user + $sys" | bc -l)
  count[$name]=$(( ${count[$name]:-0} + 1 ))
}

batch() {  # batch [extra options...]
  rm -rf "$work/out"
  "$BIN" batch "$work/in" --out "$work/out" --csv -q "$@" || true
}
separate() {  # separate [extra options...]
  rm -rf "$work/sep"; mkdir -p "$work/sep"
  for f in "$work"/in/*.mp4; do "$BIN" log "$f" --csv "$work/sep/$(basename "$f").csv" -q "$@"; done
}
two_shards() {
  rm -rf "$work/out"
  "$BIN" batch "$work/in" --out "$work/out" --csv -q --shard 0/2 & local a=$!
  "$BIN" batch "$work/in" --out "$work/out" --csv -q --shard 1/2 & local b=$!
  wait $a; wait $b
}
check_rows() {  # every input's CSV is complete: the same rows in batch and separate outputs
  local a b
  a=$(cat "$work"/out/copy*.csv | wc -l); b=$(cat "$work"/sep/copy*.csv | wc -l)
  [ "$a" = "$b" ] || { echo "batch wrote $a CSV lines, separate runs $b" >&2; exit 1; }
}

echo "fer-live batch benchmark: $N x $(basename "$VIDEO"), $ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    measure batch batch; measure separate separate
  else
    measure separate separate; measure batch batch
  fi
  check_rows
  measure batch1 batch --max-frames 1; measure separate1 separate --max-frames 1
  echo "  round $r: batch $(printf %.1f "$(echo "${total[batch]} / ${count[batch]}" | bc -l)") s," \
       "separate $(printf %.1f "$(echo "${total[separate]} / ${count[separate]}" | bc -l)") s (means so far)"
done
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    measure one batch; measure two two_shards
  else
    measure two two_shards; measure one batch
  fi
done
mean() { echo "${total[$1]} / ${count[$1]}" | bc -l; }
share() { echo "100 * ${cpu[$1]} / ${total[$1]}" | bc -l; }  # CPU use in % of one core
b=$(mean batch) s=$(mean separate) b1=$(mean batch1) s1=$(mean separate1) one=$(mean one) two=$(mean two)
printf '%-44s %8.2f s, CPU %3.0f%%\n' "batch, $N inputs, --csv" "$b" "$(share batch)"
printf '%-44s %8.2f s, CPU %3.0f%%\n' "$N separate log runs, --csv" "$s" "$(share separate)"
printf '%-44s %8.3f   (>1: batch is faster)\n' "speed of batch / speed of separate runs" "$(echo "$s / $b" | bc -l)"
printf '%-44s %8.0f ms\n' "per-input overhead, batch (--max-frames 1)" "$(echo "1000 * $b1 / $N" | bc -l)"
printf '%-44s %8.0f ms\n' "per-input overhead, separate runs" "$(echo "1000 * $s1 / $N" | bc -l)"
printf '%-44s %8.2f s, CPU %3.0f%%\n' "one batch process" "$one" "$(share one)"
printf '%-44s %8.2f s, CPU %3.0f%%\n' "two processes at a time (two shards)" "$two" "$(share two)"
printf '%-44s %8.3f   (>1: two at a time is faster)\n' "speed of two / speed of one" "$(echo "$one / $two" | bc -l)"
