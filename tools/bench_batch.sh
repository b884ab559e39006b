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

now() { date +%s.%N; }
declare -A total count
record() { total[$1]=$(echo "${total[$1]:-0} + $2" | bc -l); count[$1]=$(( ${count[$1]:-0} + 1 )); }

batch() {  # batch [extra options...]
  rm -rf "$work/out"
  local t0; t0=$(now)
  "$BIN" batch "$work/in" --out "$work/out" --csv -q "$@" || true
  echo "$(now) - $t0" | bc -l
}
separate() {  # separate [extra options...]
  rm -rf "$work/sep"; mkdir -p "$work/sep"
  local t0; t0=$(now)
  for f in "$work"/in/*.mp4; do "$BIN" log "$f" --csv "$work/sep/$(basename "$f").csv" -q "$@"; done
  echo "$(now) - $t0" | bc -l
}
two_shards() {
  rm -rf "$work/out"
  local t0; t0=$(now)
  "$BIN" batch "$work/in" --out "$work/out" --csv -q --shard 0/2 & local a=$!
  "$BIN" batch "$work/in" --out "$work/out" --csv -q --shard 1/2 & local b=$!
  wait $a; wait $b
  echo "$(now) - $t0" | bc -l
}
check_rows() {  # every input's CSV is complete: the same rows in batch and separate outputs
  local a b
  a=$(cat "$work"/out/copy*.csv | wc -l); b=$(cat "$work"/sep/copy*.csv | wc -l)
  [ "$a" = "$b" ] || { echo "batch wrote $a CSV lines, separate runs $b" >&2; exit 1; }
}

echo "fer-live batch benchmark: $N x $(basename "$VIDEO"), $ROUNDS rounds, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    record batch "$(batch)"; record separate "$(separate)"
  else
    record separate "$(separate)"; record batch "$(batch)"
  fi
  check_rows
  record batch1 "$(batch --max-frames 1)"; record separate1 "$(separate --max-frames 1)"
  echo "  round $r: batch $(printf %.1f "$(echo "${total[batch]} / ${count[batch]}" | bc -l)") s," \
       "separate $(printf %.1f "$(echo "${total[separate]} / ${count[separate]}" | bc -l)") s (means so far)"
done
for r in $(seq "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then
    record one "$(batch)"; record two "$(two_shards)"
  else
    record two "$(two_shards)"; record one "$(batch)"
  fi
done
mean() { echo "${total[$1]} / ${count[$1]}" | bc -l; }
b=$(mean batch) s=$(mean separate) b1=$(mean batch1) s1=$(mean separate1) one=$(mean one) two=$(mean two)
printf '%-44s %8.2f s\n' "batch, $N inputs, --csv" "$b"
printf '%-44s %8.2f s\n' "$N separate log runs, --csv" "$s"
printf '%-44s %8.3f   (>1: batch is faster)\n' "speed of batch / speed of separate runs" "$(echo "$s / $b" | bc -l)"
printf '%-44s %8.0f ms\n' "per-input overhead, batch (--max-frames 1)" "$(echo "1000 * $b1 / $N" | bc -l)"
printf '%-44s %8.0f ms\n' "per-input overhead, separate runs" "$(echo "1000 * $s1 / $N" | bc -l)"
printf '%-44s %8.2f s\n' "one batch process" "$one"
printf '%-44s %8.2f s\n' "two processes at a time (two shards)" "$two"
printf '%-44s %8.3f   (>1: two at a time is faster)\n' "speed of two / speed of one" "$(echo "$one / $two" | bc -l)"
