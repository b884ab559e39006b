#!/usr/bin/env bash
# `make slurm-test`: fer-live batch on a real Slurm, on this machine alone.
#
# Installs Debian's slurm-wlm and munge if missing, then runs a private one-node cluster from a
# temporary folder: its own munge key and socket, its own slurm.conf (SLURM_CONF) on ports of its
# own, no cgroups (proctrack/linuxproc, task/none), so it neither needs systemd nor touches a
# Slurm or munge already on the machine. It submits examples/slurm/fer-live-array.sbatch as an
# array of 4 tasks over 8 short clips and the summary job after it, waits, and checks that every
# clip was processed exactly once, by one task, and that summary.csv is right. The daemons are
# stopped however the script ends.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
BIN=${FER_LIVE:-$here/.build/release/fer-live}
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
TASKS=4 CLIPS=8 FRAMES=12
PORT=${SLURM_TEST_PORT:-16817}   # slurmctld; slurmd takes the next one
TIMEOUT=${SLURM_TEST_TIMEOUT:-240}

fail() { echo "slurm-test: FAILED: $*" >&2; exit 1; }
[ -x "$BIN" ] || fail "$BIN is missing (make build)"
command -v ffmpeg >/dev/null || fail "ffmpeg is missing (make deps)"

missing=$(for p in slurm-wlm munge; do dpkg -s $p >/dev/null 2>&1 || echo $p; done)
if [ -n "$missing" ]; then
  echo "slurm-test: installing" $missing
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

work=$(mktemp -d /tmp/fer-slurm-test.XXXXXX)
pids=()
cleanup() {
  status=$?
  for pid in "${pids[@]}"; do $SUDO kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do $SUDO kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    $SUDO kill -9 "$pid" 2>/dev/null || true
  done
  if [ $status -ne 0 ]; then
    echo "slurm-test: logs follow ($work)" >&2
    for f in "$work"/log/*.log "$work"/run/slurm-*.out; do
      [ -f "$f" ] && { echo "== $f" >&2; tail -n 30 "$f" >&2; }
    done
  else
    $SUDO rm -rf "$work"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start=$(date +%s)

# --- munge: a key and a socket of our own --------------------------------------------------------
mkdir -p "$work"/{munge,log,state,spool,run/clips}
chmod 711 "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$work/munge/munge.key"
socket="$work/munge/munge.socket"
$SUDO munged -F --force --key-file="$work/munge/munge.key" --socket="$socket" \
  --pid-file="$work/munge/munged.pid" --seed-file="$work/munge/munged.seed" \
  --log-file="$work/log/munged.log" >"$work/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || fail "munged did not start"

# --- slurm.conf for one node on localhost ---------------------------------------------------------
host=$(hostname -s)
node=$(slurmd -C | head -n 1)   # NodeName=HOST CPUs=.. RealMemory=.. as slurmd sees this machine
export SLURM_CONF="$work/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=ferlivetest
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool/slurmd-%n
SlurmctldPidFile=$work/run/slurmctld.pid
SlurmdPidFile=$work/run/slurmd-%n.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=600
SlurmdTimeout=60
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
nodename=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$node")

$SUDO env SLURM_CONF="$SLURM_CONF" slurmctld -D -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
pids+=($!)
$SUDO env SLURM_CONF="$SLURM_CONF" slurmd -D -f "$SLURM_CONF" -N "$nodename" >"$work/log/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  state=$(sinfo -h -n "$nodename" -o %T 2>/dev/null || true)
  [[ "$state" == idle* ]] && break
  sleep 0.3
done
[[ "${state:-}" == idle* ]] || fail "node $nodename is not idle (state: ${state:-none})"
echo "slurm-test: cluster up in $(( $(date +%s) - start )) s (node $nodename)"

# --- eight short clips, two folders, one file name in both ---------------------------------------
cd "$work/run"
for i in $(seq 1 $CLIPS); do
  folder=clips/day$(( (i - 1) % 2 + 1 ))
  mkdir -p "$folder"
  name=$([ "$i" -le 2 ] && echo interview || echo "clip$i")
  ffmpeg -v error -y -loop 1 -framerate 25 -i "$here/Tests/Fixtures/astronaut.png" \
    -vf "crop=400:400:$((i * 8)):$((i * 4)),scale=256:256" -frames:v $FRAMES \
    -c:v libx264 -preset veryfast -pix_fmt yuv420p "$folder/$name.mp4"
done
[ "$(find clips -name '*.mp4' | wc -l)" = $CLIPS ] || fail "the clips were not made"

# --- the array job and the summary after it -------------------------------------------------------
export FER_LIVE="$BIN"
array=$(sbatch --parsable --array=0-$((TASKS - 1)) --cpus-per-task=1 --mem=500M \
  "$here/examples/slurm/fer-live-array.sbatch" clips --out results --csv)
summary=$(sbatch --parsable --dependency=afterany:"$array" --mem=100M \
  "$here/examples/slurm/fer-live-summary.sbatch" results)
echo "slurm-test: submitted array job $array ($TASKS tasks) and summary job $summary"
deadline=$(( $(date +%s) + TIMEOUT ))
while [ -n "$(squeue -h -j "$array,$summary" 2>/dev/null)" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { squeue >&2; fail "jobs still queued or running after $TIMEOUT s"; }
  sleep 1
done

# --- checks ---------------------------------------------------------------------------------------
states=$(scontrol -o show job "$array" | grep -o 'JobState=[A-Z]*' | sort | uniq -c | tr -s ' ')
[ "$(scontrol -o show job "$array" | grep -c 'JobState=COMPLETED')" = $TASKS ] || fail "array tasks: $states"
scontrol -o show job "$summary" | grep -q 'JobState=COMPLETED' || fail "summary job: $(scontrol -o show job "$summary")"
for t in $(seq 0 $((TASKS - 1))); do
  f=results/batch-shard-$t-of-$TASKS.jsonl
  [ -f "$f" ] || fail "task $t wrote no $f"
  [ "$(wc -l < "$f")" = $((CLIPS / TASKS)) ] || fail "$f holds $(wc -l < "$f") records, not $((CLIPS / TASKS))"
done
python3 - "$work/run" $CLIPS $FRAMES <<'PY'
import csv, glob, json, os, sys
root, clips, frames = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.chdir(root)
inputs = sorted(os.path.abspath(p) for p in glob.glob("clips/**/*.mp4", recursive=True))
records = [json.loads(l) for f in sorted(glob.glob("results/batch-shard-*.jsonl")) for l in open(f)]
done = sorted(r["input"] for r in records)
assert done == inputs, f"each clip exactly once: {done} vs {inputs}"
assert all(r["status"] == "ok" for r in records), [r for r in records if r["status"] != "ok"]
shards = {r["input"]: r["shard"] for r in records}
assert all(shards[p] == f"{i % 4}/4" for i, p in enumerate(inputs)), shards
rows = list(csv.DictReader(open("results/summary.csv")))
assert sorted(r["input"] for r in rows) == inputs, rows
names = sorted(r["name"] for r in rows)
assert names == sorted(["day1/interview.mp4", "day2/interview.mp4"] + [f"day{(i - 1) % 2 + 1}/clip{i}.mp4" for i in range(3, clips + 1)]), names
for r in rows:
    assert r["status"] == "ok" and int(r["frames"]) == frames, r
    assert abs(float(r["duration_s"]) - frames / 25) < 1e-3, r
    assert int(r["faces"]) >= 1 and int(r["frames_with_faces"]) >= 1, r
    shares = sum(float(r[e]) for e in ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"])
    assert abs(shares - 1) < 1e-3, r
    out = os.path.join("results", r["name"] + ".csv")
    assert sum(1 for _ in open(out)) == int(r["faces"]) + 1, f"{out} has a row per face"
print(f"slurm-test: {len(rows)} clips, each processed once by its shard; summary.csv checked")
PY
echo "slurm-test: passed in $(( $(date +%s) - start )) s"
