#!/usr/bin/env bash
# The classifier's whole recipe in one run on a GPU machine (about 9 minutes on one H200 with 4.0 4.0):
#   phase A, in parallel: four teachers (training.recipe --arch teacher, seeds 0-3) and two
#            baselines without distillation (fernet, fernet_m);
#   phase B, in parallel: fernet and fernet_m distilled from the four teachers' mean softmax;
#   then the teachers' ensemble figures.
# Usage: tools/gpu_train.sh PACK OUT_DIR [PHASE_A_MIN PHASE_B_MIN]
# PACK is training.pack's output (or its first part, the others beside it). Everything lands in
# OUT_DIR: the students' and baselines' checkpoints, every run's metrics.csv / results.json / log,
# copied after each phase. GPU_DEADLINE_S (default 540) bounds the whole script: a run still
# going then is stopped (its best.pt, written every epoch, stays), so the copies are made even
# when a phase overruns, inside a caller's time limit.
set -euo pipefail
pack=$1
out=$2
a_min=${3:-3.6}
b_min=${4:-3.4}
runs=/tmp/fer-runs
deadline=$(( $(date +%s) + ${GPU_DEADLINE_S:-540} ))
mkdir -p "$runs" "$out"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
py=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
"$py" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'

run() {  # name, then training.recipe arguments; stopped at the deadline
    local name=$1; shift
    local left=$(( deadline - $(date +%s) ))
    if [ "$left" -le 5 ]; then echo "SKIPPED: $name (deadline)" >> "$runs/failures.txt"; return; fi
    timeout "$left" "$py" -m training.recipe --pack "$pack" --out "$runs/$name" "$@" > "$runs/$name.log" 2>&1 \
        || echo "FAILED or stopped at the deadline: $name (see $name.log)" >> "$runs/failures.txt"
}

collect() {  # the small checkpoints and every log into OUT_DIR (called after each phase)
    for name in s_fernet s_fernet_m b_fernet b_fernet_m; do
        [ -f "$runs/$name/best.pt" ] && cp "$runs/$name/best.pt" "$out/$name.pt"
    done
    [ -f "$runs/s_fernet/last.pt" ] && cp "$runs/s_fernet/last.pt" "$out/s_fernet_last.pt"
    (cd "$runs" && tar cf "$out/logs.tar" --exclude='*.pt' --exclude='*.tmp' .)
}

start=$(date +%s)
for s in 0 1 2 3; do run "t$s" --arch teacher --minutes "$a_min" --seed "$s" & done
run b_fernet --arch fernet --minutes "$a_min" --seed 100 &
run b_fernet_m --arch fernet_m --minutes "$a_min" --seed 101 &
wait
echo "phase A: $(( $(date +%s) - start )) s"
collect
teachers=()
for s in 0 1 2 3; do [ -f "$runs/t$s/best.pt" ] && teachers+=(--teacher "$runs/t$s/best.pt"); done
if [ ${#teachers[@]} -gt 0 ]; then
    run s_fernet --arch fernet --minutes "$b_min" --seed 10 "${teachers[@]}" &
    run s_fernet_m --arch fernet_m --minutes "$b_min" --seed 11 "${teachers[@]}" &
    wait
    echo "phase B: $(( $(date +%s) - start )) s"
    ens=()
    for s in 0 1 2 3; do [ -f "$runs/t$s/best.pt" ] && ens+=("$runs/t$s/best.pt"); done
    left=$(( deadline - $(date +%s) )); [ "$left" -gt 5 ] || left=5
    timeout "$left" "$py" -m training.recipe --pack "$pack" --evaluate "${ens[@]}" --json "$runs/teachers_ensemble.json" \
        > "$runs/teachers_ensemble.log" 2>&1 || echo "FAILED: ensemble evaluation" >> "$runs/failures.txt"
fi
collect
cat "$runs/failures.txt" 2>/dev/null || true
for f in "$runs"/*.log; do echo "== $f"; tail -n 2 "$f"; done
echo "total: $(( $(date +%s) - start )) s"
