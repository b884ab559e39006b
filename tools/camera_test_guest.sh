#!/bin/busybox sh
# /init of make camera-test's VM (tools/camera_test.sh builds the image): loads vivid, runs
# fer-live against it and prints one line per check on the serial console, which the host
# reads:
#   PASS name: figures        FAIL name: why        INFO text
#   DATA name BASE64          a small file for the host to check (a captured frame as PNG)
#   CAMERA-TEST boot|done S   the guest's uptime at the start of the checks and at the end
# Then it powers the VM off. Set -u only: a failing command is a FAIL line, not the end.
set -u
/bin/busybox --install -s /bin
export PATH=/bin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
echo "CAMERA-TEST boot $(cut -d' ' -f1 /proc/uptime)"

FL=/opt/fer-live/fer-live
# The smallest face the detector looks for: the emulated CPU is some 20 times slower than the
# host, and the pictures here have no face (test patterns) or a large one (the looped clip).
MINFACE="--min-face 60"
CAP=/dev/video0
OUT=/dev/video1
T=/tmp
STREAMER=

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; }
info() { echo "INFO $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
# The stderr of a run, one line, for a FAIL message.
tail_of() { tail -n 3 "$1" 2>/dev/null | tr '\n' ' ' | cut -c1-400; }

# Runs fer-live with a name: stdout in $T/NAME.out, stderr in $T/NAME.err, exit status in $T/NAME.rc.
fer() {
    name=$1
    shift
    "$FL" "$@" >"$T/$name.out" 2>"$T/$name.err"
    echo $? >"$T/$name.rc"
}
# fer-live's own error line of a run ("fer-live live: /dev/video0: ...")
error_line() { grep '^fer-live [a-z]*: ' "$1" | head -1; }
section() { info "at $(uptime_s) s: $*"; }
rc_of() { cat "$T/$1.rc"; }

# frames in a JSON-lines file, frames with at least one face, and faces
jsonl_frames() { lines "$1"; }
jsonl_face_frames() { grep -c '"face_id"' "$1" 2>/dev/null || echo 0; }
jsonl_faces() { grep -o '"face_id"' "$1" 2>/dev/null | wc -l | tr -d ' '; }
csv_rows() { if [ -f "$1" ]; then echo $(($(lines "$1") - 1)); else echo -1; fi; }
# frames fer-live itself decodes back from a recording (it is playable when this matches);
# bench decode reads every frame without running the detector again
decoded_frames() { "$FL" bench decode "$1" --runs 1 2>/dev/null | sed -n 's/^fer-live: \([0-9]*\) frames.*/\1/p'; }
# the error lines of a run: fer-live's own "fer-live live: ..." line
error_lines() { grep -c '^fer-live [a-z]*: ' "$1" 2>/dev/null || echo 0; }

# Waits (at most $2 seconds) until fer-live's temporary JSON-lines output for $1 has a frame.
wait_for_frames() {
    n=0
    while [ $n -lt "$2" ]; do
        for part in "$T"/."$1".*.part.jsonl; do
            [ -s "$part" ] && return 0
        done
        sleep 1
        n=$((n + 1))
    done
    return 1
}

# Waits for process $1 at most $2 seconds; its exit status, or 124 after killing it.
wait_at_most() {
    n=0
    while kill -0 "$1" 2>/dev/null && [ $n -lt $(($2 * 5)) ]; do
        usleep 200000
        n=$((n + 1))
    done
    if kill -0 "$1" 2>/dev/null; then
        kill -9 "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        return 124
    fi
    wait "$1"
}

stop_streamer() {
    if [ -n "$STREAMER" ]; then
        kill "$STREAMER" 2>/dev/null
        wait "$STREAMER" 2>/dev/null
        STREAMER=
    fi
}

finish() {
    stop_streamer
    echo "CAMERA-TEST done $(uptime_s)"
    sync
    poweroff -f
}

# --- the driver: a capture node and an output node (node_types bit 0 and bit 8)
for module in $(cat /lib/modules/order); do
    if [ "$module" = vivid ]; then
        insmod /lib/modules/vivid.ko n_devs=1 node_types=0x101 multiplanar=1 || fail "modules: insmod vivid"
    else
        insmod "/lib/modules/$module.ko" || fail "modules: insmod $module"
    fi
done
if [ ! -c $CAP ] || [ ! -c $OUT ]; then
    fail "modules: vivid made no $CAP and $OUT"
    finish
fi
chmod 666 $CAP $OUT
pass "modules: vivid loaded ($(cat /sys/class/video4linux/video0/name), $(cat /sys/class/video4linux/video1/name)) at $(uptime_s) s"
info "$(cat /data/clip.txt)"
# A still test pattern: no clock text, so frames of one format can be compared with another's.
v4l2-ctl -d $CAP -i 0 >/dev/null
v4l2-ctl -d $CAP -c osd_text_mode=2

section probe
# --- probe lists formats, sizes and frame rates
fer probe probe $CAP
formats=$(grep -cE '^  [A-Z0-9 ]{3,4} ' $T/probe.out)
yuyv_sizes=$(sed -n '/^  YUYV /,/^  [A-Z0-9]/p' $T/probe.out | grep -cE '^    [0-9]+x[0-9]+')
if [ "$(rc_of probe)" = 0 ] && [ ! -s $T/probe.err ] && grep -q '^size: *640x480' $T/probe.out && grep -qE '^    640x480: .*25 fps' $T/probe.out \
    && grep -q '^  NV12 ' $T/probe.out && [ "$yuyv_sizes" -ge 2 ]; then
    pass "probe: $(grep '^size:' $T/probe.out | tr -s ' '), $(grep '^pixel format:' $T/probe.out | tr -s ' '); $formats formats listed, YUYV in $yuyv_sizes sizes ($(sed -n '/^  YUYV /,/^  [A-Z0-9]/p' $T/probe.out | grep -oE '^    [0-9]+x[0-9]+' | tr -d ' ' | tr '\n' ' '))"
else
    fail "probe: rc $(rc_of probe): $(head -c 600 $T/probe.out | tr '\n' ' ') $(tail_of $T/probe.err)"
fi
fer probe-json probe --json $CAP
if grep -q '"formats"' $T/probe-json.out && grep -q '"fourcc":"YUYV"' $T/probe-json.out; then
    pass "probe --json: the formats are there ($(wc -c <$T/probe-json.out) bytes)"
else
    fail "probe --json: $(head -c 300 $T/probe-json.out) $(tail_of $T/probe-json.err)"
fi

section "yuyv sizes"
# --- YUYV at two sizes, with the frame rate asked and measured
for mode in 640x480:25 320x180:15; do
    size=${mode%:*}
    fps=${mode#*:}
    name=yuyv-$size
    start=$(uptime_s)
    fer $name live $MINFACE --device $CAP --size $size --fps $fps --pixel-format yuyv --max-frames 24 --jsonl $T/$name.jsonl
    frames=$(jsonl_frames $T/$name.jsonl)
    # The camera's own rate: frame numbers count delivered frames, time comes from the driver.
    rate=$(awk -F'[:,]' '{for (i = 1; i < NF; i++) {if ($i ~ /"frame"/) f = $(i + 1); if ($i ~ /"time_s"/) t = $(i + 1)}} NR == 1 {f0 = f; t0 = t} END {if (t > t0) printf "%.1f", (f - f0) / (t - t0); else print "?"}' $T/$name.jsonl 2>/dev/null)
    if [ "$(rc_of $name)" = 0 ] && [ "$frames" -ge 1 ] && ! grep -q 'asked for' $T/$name.err; then
        pass "live YUYV $size: camera at $rate fps (asked $fps); $(grep '^live:' $T/$name.err)"
    else
        fail "live YUYV $size: rc $(rc_of $name), $frames frames: $(tail_of $T/$name.err)"
    fi
done

section "formats"
# --- every other format vivid offers that webcams use: a frame of each to the host (PNG), where
# its colour bars are compared with the camera's own RGB24
for format in yuyv uyvy nv12 yu12 rgb24 bgr24; do
    name=format-$format
    fer $name live $MINFACE --device $CAP --size 320x180 --fps 15 --pixel-format $format --max-frames 4 -o "$T/$name-%02d.png"
    last=$(ls $T/$name-*.png 2>/dev/null | tail -1)
    if [ "$(rc_of $name)" = 0 ] && [ -n "$last" ]; then
        pass "live $format 320x180: $(ls $T/$name-*.png | wc -l) frames"
        echo "DATA $format $(base64 -w 0 "$last")"
    else
        fail "live $format 320x180: rc $(rc_of $name): $(tail_of $T/$name.err)"
    fi
done

section "fps"
# --- a frame rate the camera cannot give is reported, once, with what it gives
fer fps-report live $MINFACE --device $CAP --size 640x480 --fps 60 --max-frames 2 --jsonl $T/fps-report.jsonl
report=$(grep -c 'asked for 640x480 at 60 fps, the camera gives 640x480 at 25 fps' $T/fps-report.err)
if [ "$(rc_of fps-report)" = 0 ] && [ "$report" = 1 ]; then
    pass "fps negotiation: --fps 60 at 640x480 reported once: $(grep 'asked for' $T/fps-report.err)"
else
    fail "fps negotiation: rc $(rc_of fps-report), $report report lines: $(tail_of $T/fps-report.err)"
fi

section "faults"
# --- faults that need no streaming
fer not-capture live $MINFACE --device $OUT --max-frames 2
if [ "$(rc_of not-capture)" = 1 ] && [ "$(error_lines $T/not-capture.err)" = 1 ] && grep -q "$OUT: .*not a video capture device" $T/not-capture.err; then
    pass "output node refused: $(error_line $T/not-capture.err)"
else
    fail "output node: rc $(rc_of not-capture): $(tail_of $T/not-capture.err)"
fi
fer missing live $MINFACE --device /dev/video7 --max-frames 2
if [ "$(rc_of missing)" = 1 ] && grep -q '/dev/video7: not found' $T/missing.err; then
    pass "missing device: $(error_line $T/missing.err)"
else
    fail "missing device: rc $(rc_of missing): $(tail_of $T/missing.err)"
fi
chmod 600 $CAP
su camera -s /bin/sh -c "$FL live --device $CAP --max-frames 2 >$T/denied.out 2>$T/denied.err; echo \$? >$T/denied.rc"
chmod 666 $CAP
if [ "$(rc_of denied)" = 1 ] && [ "$(error_lines $T/denied.err)" = 1 ] && grep -q "$CAP: permission denied" $T/denied.err; then
    pass "no read permission (uid $(id -u camera)): $(error_line $T/denied.err)"
else
    fail "no read permission: rc $(cat $T/denied.rc 2>/dev/null): $(tail_of $T/denied.err)"
fi
v4l2-ctl -d $CAP --stream-mmap --stream-count=100000 >/dev/null 2>&1 &
holder=$!
sleep 2
fer busy live $MINFACE --device $CAP --max-frames 2
kill $holder 2>/dev/null
wait $holder 2>/dev/null
if [ "$(rc_of busy)" = 1 ] && [ "$(error_lines $T/busy.err)" = 1 ] && grep -q "$CAP: device busy" $T/busy.err; then
    pass "camera streaming in another process: $(error_line $T/busy.err)"
else
    fail "camera busy: rc $(rc_of busy): $(tail_of $T/busy.err)"
fi

section "faces"
# --- real faces through the camera: woman2's frames written into vivid's HDMI output, looped
# into its HDMI input (the same 640x480 YUYV format and timings on both ends)
v4l2-ctl -d $CAP -i 3 >/dev/null
v4l2-ctl -d $CAP --set-dv-bt-timings index=0 >/dev/null
v4l2-ctl -d $OUT -o 1 >/dev/null
v4l2-ctl -d $OUT --set-dv-bt-timings index=0 >/dev/null
v4l2-ctl -d $OUT --set-fmt-video-out=width=640,height=480,pixelformat=YUYV
v4l2-ctl -d $CAP --set-fmt-video=width=640,height=480,pixelformat=YUYV
v4l2-ctl -d $CAP -c loop_video=1
v4l2-ctl -d $OUT --stream-out-mmap=3 --stream-from=/data/clip.yuyv --stream-loop >$T/streamer.log 2>&1 &
STREAMER=$!
sleep 2
fer faces live $MINFACE --device $CAP --size 640x480 --fps 60 --max-frames 240 --csv $T/faces.csv --jsonl $T/faces.jsonl -o $T/faces.mp4
frames=$(jsonl_frames $T/faces.jsonl)
with_faces=$(jsonl_face_frames $T/faces.jsonl)
faces=$(jsonl_faces $T/faces.jsonl)
rows=$(csv_rows $T/faces.csv)
decoded=$(decoded_frames $T/faces.mp4)
if [ "$(rc_of faces)" = 0 ] && [ "$frames" -ge 5 ] && [ $((with_faces * 10)) -ge $((frames * 8)) ] \
    && [ "$rows" = "$faces" ] && [ "$decoded" = "$frames" ]; then
    pass "faces through the camera: $with_faces of $frames frames with a face, CSV $rows rows = $faces faces, recording decodes to $decoded frames; $(grep '^live:' $T/faces.err)"
else
    fail "faces through the camera: rc $(rc_of faces), $with_faces of $frames frames with faces, CSV rows $rows, faces $faces, recording $decoded frames: $(tail_of $T/faces.err) streamer: $(tail -c 200 $T/streamer.log)"
fi

section "stall"
# --- a camera that stops delivering: every buffer dropped from some point on
fer_bg() {
    name=$1
    shift
    "$FL" "$@" >"$T/$name.out" 2>"$T/$name.err" &
    PID=$!
}
fer_bg stall live $MINFACE --device $CAP --size 640x480 --fps 60 --stream-timeout 3 --max-frames 100000 --jsonl $T/stall.jsonl -o $T/stall.mp4
wait_for_frames stall 30 || info "stall: no frame seen before the stall"
sleep 1
v4l2-ctl -d $CAP -c percentage_of_dropped_buffers=100
stalled=$(uptime_s)
wait_at_most $PID 40
echo $? >$T/stall.rc
ended=$(uptime_s)
v4l2-ctl -d $CAP -c percentage_of_dropped_buffers=0
frames=$(jsonl_frames $T/stall.jsonl)
decoded=$(decoded_frames $T/stall.mp4)
after=$(awk "BEGIN {printf \"%.1f\", $ended - $stalled}")
info "stall: standard error: $(tr '\n' '|' <$T/stall.err)"
if [ "$(rc_of stall)" = 1 ] && [ "$(grep -c . $T/stall.err)" = 1 ] && [ "$(error_lines $T/stall.err)" = 1 ] && grep -q "$CAP: timed out" $T/stall.err \
    && [ "$frames" -ge 1 ] && [ "$decoded" = "$frames" ]; then
    pass "camera stops delivering: ended ${after} s after the stall (timeout 3 s), $frames frames kept, recording decodes to $decoded; $(grep '^fer-live live' $T/stall.err)"
else
    fail "camera stops delivering: rc $(rc_of stall) after ${after} s, $frames frames, recording $decoded: $(tail_of $T/stall.err)"
fi

section "unplug"
# --- unplugged while streaming (vivid's disconnect control): last, the node is gone afterwards
fer_bg unplug live $MINFACE --device $CAP --size 640x480 --fps 60 --max-frames 100000 --csv $T/unplug.csv --jsonl $T/unplug.jsonl -o $T/unplug.mp4
wait_for_frames unplug 30 || info "unplug: no frame seen before the disconnect"
sleep 2
v4l2-ctl -d $CAP -c disconnect=1
wait_at_most $PID 40
echo $? >$T/unplug.rc
frames=$(jsonl_frames $T/unplug.jsonl)
faces=$(jsonl_faces $T/unplug.jsonl)
rows=$(csv_rows $T/unplug.csv)
decoded=$(decoded_frames $T/unplug.mp4)
csv_complete=no
[ -s $T/unplug.csv ] && [ "$(tail -c 1 $T/unplug.csv | od -An -c | tr -d ' ')" = '\n' ] && csv_complete=yes
info "unplug: standard error: $(tr '\n' '|' <$T/unplug.err)"
if [ "$(rc_of unplug)" = 1 ] && [ "$(grep -c . $T/unplug.err)" = 1 ] && [ "$(error_lines $T/unplug.err)" = 1 ] && grep -q "$CAP: .*went away" $T/unplug.err \
    && [ "$frames" -ge 1 ] && [ "$decoded" = "$frames" ] && [ "$rows" = "$faces" ] && [ $csv_complete = yes ]; then
    pass "unplugged while streaming: exit 1, $frames frames kept, recording decodes to $decoded, CSV $rows rows = $faces faces, complete; $(grep '^fer-live live' $T/unplug.err)"
else
    fail "unplugged while streaming: rc $(rc_of unplug), $frames frames, recording $decoded, CSV rows $rows faces $faces complete $csv_complete: $(tail_of $T/unplug.err)"
fi
stop_streamer

section "noise"
# --- no libv4l2 noise in anything fer-live printed
noise=$(cat $T/*.err | grep -c 'libv4l2')
runs=$(ls $T/*.err | wc -l)
if [ "$noise" = 0 ]; then
    pass "no libv4l2 noise: 0 libv4l2 lines in the standard error of $runs runs"
else
    fail "libv4l2 noise: $noise lines, first: $(cat $T/*.err | grep -m 1 libv4l2)"
fi
finish
