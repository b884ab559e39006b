#!/usr/bin/env bash
# libFuzzer over every parser of untrusted bytes: the safetensors header and tensor table, the
# classifier's JSON graph, the FER2013 CSV reader (Fuzz/Harnesses). Each harness is built with
# -sanitize=fuzzer,address into .build-fuzz and run for FUZZ_SECONDS (default 600), starting
# from the seed corpus in Fuzz/corpus/NAME plus what earlier runs kept in .build-fuzz/corpus.
# A crash, hang (over 10 s), leak or out-of-memory input is saved in Fuzz/regressions/NAME/,
# where FuzzRegressionTests replays it in `make test` from then on; the run then fails.
#
#   tools/fuzz.sh [NAME ...]        (FUZZ_SECONDS=N for shorter or longer runs)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-600}
NAMES=${*:-safetensors model-json fer-csv}
OUT=out/fuzz
mkdir -p "$OUT"
for name in $NAMES; do
    [ -d "Fuzz/corpus/$name" ] || { echo "fuzz: no harness named $name (Fuzz/corpus/$name)" >&2; exit 64; }
    # The linker's "Cannot export local symbol" lines are gold's notes about ASan's own symbols.
    # The coverage kinds are named because SwiftPM's --sanitize=fuzzer alone left the Swift
    # modules uninstrumented (5,239 counters, all from C, against 18,339 with them): libFuzzer
    # then found no input more interesting than another and fuzzed blind.
    FER_LIVE_FUZZ=1 swift build --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address \
        -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
        --product "fuzz-$name" 2>&1 | grep -v "Cannot export local symbol" | grep -E "error|Compiling|complete" | tail -3
done
status=0
echo "| harness | seconds | runs | runs/s | coverage (edges) | corpus | findings |" > "$OUT/summary.md"
echo "| --- | --- | --- | --- | --- | --- | --- |" >> "$OUT/summary.md"
for name in $NAMES; do
    corpus=.build-fuzz/corpus/$name
    mkdir -p "$corpus" "Fuzz/regressions/$name"
    before=$(ls "Fuzz/regressions/$name" | grep -vc '^\.keep$' || true)
    log=$OUT/$name.log
    echo "fuzz-$name: ${SECONDS_EACH} s (log: $log)"
    set +e
    ASAN_OPTIONS=detect_leaks=1 ".build-fuzz/debug/fuzz-$name" "$corpus" "Fuzz/corpus/$name" \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="Fuzz/regressions/$name/" -print_final_stats=1 > "$log" 2>&1
    rc=$?
    set -e
    after=$(ls "Fuzz/regressions/$name" | grep -vc '^\.keep$' || true)
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0)
    size=$(ls "$corpus" | wc -l)
    rate=$(( runs / (SECONDS_EACH > 0 ? SECONDS_EACH : 1) ))
    echo "| $name | $SECONDS_EACH | $runs | $rate | $cov | $size | $((after - before)) |" >> "$OUT/summary.md"
    if grep -q "no interesting inputs were found" "$log"; then
        echo "FAIL fuzz-$name: libFuzzer saw no coverage (harness not instrumented?) (see $log)"
        status=1
    elif [ "$rc" -ne 0 ] || [ "$after" -gt "$before" ]; then
        echo "FAIL fuzz-$name: exit $rc, $((after - before)) new finding(s) in Fuzz/regressions/$name (see $log)"
        status=1
    else
        echo "PASS fuzz-$name: $runs runs, $cov edges, no crash, hang or leak"
    fi
done
cat "$OUT/summary.md"
exit $status
