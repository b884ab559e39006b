#!/usr/bin/env python3
"""What `--serve` costs: CPU with no viewer and with one viewer, and the delay from capture
to a frame reaching the viewer.

Runs `fer-live live --input VIDEO --realtime` in three ways, interleaved round by round so a
noisy machine disturbs all three alike: without --serve, with --serve and nobody watching,
and with one viewer that reads /video.mjpg and /events and polls /api/status once a second,
as the page does. CPU is the child's own user+system time (wait4), over the run's wall time;
the viewer's CPU is not counted (that is the browser's). The delay is the time a JPEG part
arrives at the viewer minus its X-Captured-At header (the moment the frame left the source,
same machine clock). Medians over the rounds are printed, per-round figures too.

    python3 tools/measure_serve.py .build/release/fer-live clip640x480.mp4 --rounds 5
"""
import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import threading
import time


def thread_cpu(pid):
    """CPU seconds per thread name, from /proc (for the JPEG thread's share)."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            out[(tid, name)] = (int(fields[11]) + int(fields[12])) / ticks
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return out


class Viewer:
    """Reads the page's streams the way the page does, on threads of its own."""

    def __init__(self, port):
        self.port = port
        self.delays = []
        self.frames = 0
        self.events = 0
        self.stop = False
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.video, self.sse, self.poll)]
        for t in self.threads:
            t.start()

    def connect(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        c.request("GET", path, headers={"Host": f"127.0.0.1:{self.port}"})
        return c.getresponse()

    def video(self):
        try:
            r = self.connect("/video.mjpg")
            buf = b""
            while not self.stop:
                data = r.read1(65536)
                if not data:
                    break
                buf += data
                while True:
                    head_end = buf.find(b"\r\n\r\n")
                    if head_end < 0:
                        break
                    head = buf[:head_end].decode("latin-1")
                    m = re.search(r"Content-Length: (\d+)", head)
                    c = re.search(r"X-Captured-At: ([0-9.]+)", head)
                    if not m:
                        buf = buf[head_end + 4:]
                        continue
                    end = head_end + 4 + int(m.group(1)) + 2
                    if len(buf) < end:
                        break
                    now = time.time()
                    if c:
                        self.delays.append(now - float(c.group(1)))
                    self.frames += 1
                    buf = buf[end:]
        except (OSError, http.client.HTTPException):
            pass

    def sse(self):
        try:
            r = self.connect("/events")
            while not self.stop:
                line = r.readline()
                if not line:
                    break
                if line.startswith(b"data: "):
                    json.loads(line[6:])
                    self.events += 1
        except (OSError, http.client.HTTPException, ValueError):
            pass

    def poll(self):
        while not self.stop:
            try:
                self.connect("/api/status").read()
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(1)


def run(binary, video, mode):
    args = [binary, "live", "--input", video, "--realtime", "--quiet"]
    if mode != "plain":
        args += ["--serve", "127.0.0.1:0"]
    start = time.time()
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    viewer = None
    if mode != "plain":
        line = p.stderr.readline()
        m = re.search(r"serving http://127\.0\.0\.1:(\d+)/", line)
        if not m:
            raise SystemExit(f"no serving line: {line!r}")
        if mode == "viewer":
            viewer = Viewer(int(m.group(1)))
    threading.Thread(target=p.stderr.read, daemon=True).start()
    last = {}
    # Sample per-thread CPU until the end (the threads are gone once it exits).
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            break
        last.update(thread_cpu(p.pid))
        time.sleep(0.2)
    wall = time.time() - start
    cpu = usage.ru_utime + usage.ru_stime
    jpeg = sum(v for (tid, name), v in last.items() if name.startswith("fer-serve-jpeg"))
    # (FlyingFox's tasks run on libdispatch's shared threads, which the pipeline's
    # concurrentPerform uses too: only the whole process's difference counts them.)
    result = {"mode": mode, "wall": wall, "cpu": cpu / wall * 100, "jpeg": jpeg / wall * 100}
    if viewer:
        viewer.stop = True
        d = sorted(viewer.delays)
        result.update(frames=viewer.frames, events=viewer.events,
                      delay=d[len(d) // 2] * 1000 if d else None,
                      p95=d[int(0.95 * (len(d) - 1))] * 1000 if d else None)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("video")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    results = []
    for r in range(a.rounds):
        for mode in ("plain", "idle", "viewer"):
            res = run(a.binary, a.video, mode)
            results.append(res)
            extra = f", JPEG thread {res['jpeg']:.1f}%" if mode != "plain" else ""
            if mode == "viewer":
                extra += f", {res['frames']} frames, {res['events']} events, delay median {res['delay']:.0f} ms p95 {res['p95']:.0f} ms"
            print(f"round {r + 1} {mode:6s}: {res['cpu']:.1f}% of a core over {res['wall']:.1f} s{extra}", flush=True)

    def med(mode, key):
        vals = [x[key] for x in results if x["mode"] == mode and x.get(key) is not None]
        return statistics.median(vals) if vals else float("nan")

    plain, idle, viewer = med("plain", "cpu"), med("idle", "cpu"), med("viewer", "cpu")
    print(f"median CPU: plain {plain:.1f}%, --serve idle {idle:.1f}% (+{idle - plain:.1f}), "
          f"one viewer {viewer:.1f}% (+{viewer - plain:.1f}); the JPEG thread with a viewer {med('viewer', 'jpeg'):.1f}%")
    print(f"median delay capture -> viewer: {med('viewer', 'delay'):.0f} ms (p95 {med('viewer', 'p95'):.0f} ms)")


if __name__ == "__main__":
    main()
