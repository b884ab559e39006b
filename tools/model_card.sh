#!/usr/bin/env bash
# Every figure of one emotion model's row in models/README.md, each from the command that makes it:
#
#   tools/model_card.sh NAME [CHECKPOINT] [OTHER_MODEL] [ROUNDS]
#
# - validation and PublicTest of CHECKPOINT in PyTorch, both framings (`training.recipe
#   --evaluate`, on the pack that tools/make_pack.sh writes; skipped without a checkpoint);
# - through the detector, with and without --flip (tools/through_detector.py: PublicTest faces as
#   a 320x240 video through `fer-live log`, against `fer-live eval` on the faces the detector
#   found), and `fer-live eval` on all of PublicTest, which that script runs too;
# - faces/s: `fer-live eval` at batch 128, NAME and OTHER_MODEL (default: the models folder's
#   default) alternated ROUNDS times (default 3), medians. Run it on an otherwise idle machine.
#
# Raw outputs go to out/model-card/NAME/; the summary is printed as Markdown. Needs a release build,
# ffmpeg, ../shared (or FER_SHARED) and, for the checkpoint figures, the venv and the pack
# (PACK=..., default out/gpu/fer2013.npz.xz).
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:?usage: tools/model_card.sh NAME [CHECKPOINT] [OTHER_MODEL] [ROUNDS]}
CHECKPOINT=${2:-}
OTHER=${3:-$(cat models/emotion/default.txt 2>/dev/null || echo fernet)}
ROUNDS=${4:-3}
SHARED=${FER_SHARED:-../shared}
DATA=$SHARED/data/fer2013/fer2013-train-publictest.csv.gz
PACK=${PACK:-out/gpu/fer2013.npz.xz}
BIN=.build/release/fer-live
OUT=out/model-card/$NAME
PY=${PYTHON:-.venv/bin/python}
. tools/bench_lib.sh
[ -x "$BIN" ] || { echo "model_card: $BIN missing; run swift build -c release" >&2; exit 1; }
[ -f "$DATA" ] || { echo "model_card: $DATA missing (set FER_SHARED)" >&2; exit 1; }
[ -f "models/emotion/$NAME.json" ] || { echo "model_card: models/emotion/$NAME.json missing; export it first (python -m training.export)" >&2; exit 1; }
[ -z "$CHECKPOINT" ] || [ -f "$CHECKPOINT" ] || { echo "model_card: $CHECKPOINT: no such checkpoint" >&2; exit 1; }
mkdir -p "$OUT"
# KEY of a JSON file (through_detector.py's --json) as a percentage.
pct() { python3 -c "import json,sys; print(f'{100 * json.load(open(sys.argv[1]))[sys.argv[2]]:.2f}%')" "$1" "$2"; }

if [ -n "$CHECKPOINT" ]; then
    [ -f "$PACK" ] || { echo "model_card: $PACK missing; run tools/make_pack.sh (or set PACK)" >&2; exit 1; }
    PYTHONPATH=. "$PY" -m training.recipe --pack "$PACK" --evaluate "$CHECKPOINT" --json "$OUT/recipe.json" > "$OUT/recipe.txt" 2>&1
fi
# through_detector.py also runs `fer-live eval` on every face: its direct_all is the PublicTest figure.
python3 tools/through_detector.py --model "$NAME" --out "$OUT/through" --json "$OUT/through.json" > /dev/null
python3 tools/through_detector.py --model "$NAME" --flip --out "$OUT/through" --json "$OUT/through-flip.json" > /dev/null
SPEED="" OSPEED=""
for r in $(seq 1 "$ROUNDS"); do
    "$BIN" eval "$DATA" --model "$NAME" --json > "$OUT/speed-$r.txt"
    "$BIN" eval "$DATA" --model "$OTHER" --json > "$OUT/speed-other-$r.txt"
    SPEED+="$(json_field "$OUT/speed-$r.txt" faces_per_second) "; OSPEED+="$(json_field "$OUT/speed-other-$r.txt" faces_per_second) "
done

echo "### $NAME ($(date -u +%Y-%m-%d), $(nproc) cores)"
echo
if [ -n "$CHECKPOINT" ]; then
    echo "- $CHECKPOINT in PyTorch (\`training.recipe --evaluate\`):"
    sed -n 's/^.*\(val\|test\): /  - \1: /p' "$OUT/recipe.txt"
fi
echo "- PublicTest, \`fer-live eval\`: $(pct "$OUT/through.json" direct_all), with --flip $(pct "$OUT/through-flip.json" direct_all)"
for f in through through-flip; do
    python3 - "$OUT/$f.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"- through the detector{' (--flip)' if r['flip'] else ''}: {100 * r['through_detector']:.2f}% on the {r['found']} of "
      f"{r['faces']} faces found; direct on those {100 * r['direct_on_found']:.2f}% ({r['loss_points']:.2f} points lost)")
EOF
done
echo "- faces/s (batch 128, $ROUNDS rounds alternated): $NAME $(fmt "$(median $SPEED)" 0) ($SPEED), $OTHER $(fmt "$(median $OSPEED)" 0) ($OSPEED)"
