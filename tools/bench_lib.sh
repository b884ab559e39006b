# Shared by the side-by-side benchmark scripts (sourced, not run): the Python that has the
# reference detector, and the two number helpers their tables use.

# The Python with torch + facenet-pytorch: $PYTHON, else .venv or /work/venv when they import
# facenet_pytorch; prints nothing when none does (callers decide whether that is an error).
reference_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
    local p
    for p in .venv/bin/python /work/venv/bin/python; do
        if [ -x "$p" ] && "$p" -c "import facenet_pytorch" 2>/dev/null; then echo "$p"; return; fi
    done
}

median() { python3 -c "import statistics,sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
fmt() { python3 -c "print(f'{float(\"$1\"):.${2:-1}f}')"; }
# KEY of the JSON object on the last line of FILE (- for standard input): what the --json
# options of fer-live and the reference scripts end their output with.
json_field() { python3 -c "import json,sys; f = sys.stdin if sys.argv[1] == '-' else open(sys.argv[1]); print(json.loads(f.read().strip().splitlines()[-1])[sys.argv[2]])" "$1" "$2"; }
