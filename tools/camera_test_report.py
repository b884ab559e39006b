#!/usr/bin/env python3
"""make camera-test's verdict: reads the VM's console log (tools/camera_test_guest.sh's lines),
checks the frames it sent back (colour bars of each pixel format, as PNG) and prints every check
with PASS or FAIL, the boot time and the total time. Exit 1 when any check failed, or the guest
did not get to the end."""
import argparse
import base64
import re
import subprocess
import sys
import tempfile
import os

# vivid's 75% colour bars, left to right: which of R, G, B is on in each of the 8 bars.
BARS = [(1, 1, 1), (1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1), (0, 0, 0)]
# The checks the guest must report, by the start of their names (one line each at least).
EXPECTED = ["modules", "probe:", "probe --json", "live YUYV 640x480", "live YUYV 320x180",
            "live yuyv", "live uyvy", "live nv12", "live yu12", "live rgb24", "live bgr24",
            "fps negotiation", "output node", "missing device", "no read permission",
            "camera streaming in another process", "faces through the camera",
            "camera stops delivering", "unplugged while streaming", "no libv4l2 noise"]


def decode_png(data, work):
    """RGB24 pixels, width, height of a PNG, decoded by the ffmpeg command line."""
    path = os.path.join(work, "frame.png")
    with open(path, "wb") as f:
        f.write(data)
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=width,height", "-of", "csv=p=0", path], capture_output=True, text=True)
    width, height = (int(v) for v in probe.stdout.strip().split(","))
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True).stdout
    return raw, width, height


def bar_colours(raw, width, height):
    """The mean colour of the middle half of each bar, over the middle rows."""
    colours = []
    bar = width // 8
    for b in range(8):
        sums, n = [0, 0, 0], 0
        for y in range(height // 4, 3 * height // 4, 4):
            for x in range(b * bar + bar // 4, b * bar + 3 * bar // 4):
                i = 3 * (y * width + x)
                for c in range(3):
                    sums[c] += raw[i + c]
                n += 1
        colours.append(tuple(s / n for s in sums))
    return colours


def check_colours(frames, work):
    """Lines of PASS/FAIL: the camera's own RGB24 must show the bars, every other format must
    match it within 4 levels per channel."""
    results = []
    if "rgb24" not in frames:
        return [("FAIL", "colour bars: no RGB24 frame came back to compare with")]
    reference = bar_colours(*decode_png(frames["rgb24"], work))
    on = [c for bar, colour in zip(BARS, reference) for flag, c in zip(bar, colour) if flag]
    off = [c for bar, colour in zip(BARS, reference) for flag, c in zip(bar, colour) if not flag]
    level = sum(on) / len(on)
    if min(on) < 150 or max(off) > 40:
        results.append(("FAIL", f"colour bars rgb24: not vivid's bars: {[tuple(round(c) for c in b) for b in reference]}"))
    else:
        results.append(("PASS", f"colour bars rgb24: the 8 bars of vivid's 75% pattern (on {level:.0f}, off <= {max(off):.0f})"))
    for name in ["yuyv", "uyvy", "nv12", "yu12", "bgr24"]:
        if name not in frames:
            results.append(("FAIL", f"colour bars {name}: no frame came back"))
            continue
        colours = bar_colours(*decode_png(frames[name], work))
        worst = max(abs(a - b) for got, ref in zip(colours, reference) for a, b in zip(got, ref))
        verdict = "PASS" if worst <= 4 else "FAIL"
        results.append((verdict, f"colour bars {name}: within {worst:.1f} levels of the camera's RGB24 on every bar and channel"))
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("log")
    parser.add_argument("--qemu-rc", type=int, default=0)
    parser.add_argument("--vm-seconds", type=float, default=0)
    parser.add_argument("--total-seconds", type=float, default=0)
    parser.add_argument("--work", default=tempfile.gettempdir())
    args = parser.parse_args()
    with open(args.log, errors="replace") as f:
        # The console's own escape sequences (SeaBIOS clears the screen) go before reading.
        lines = [re.sub(r"\x1b(\[[0-9;?]*[A-Za-z]|c)", "", line.rstrip("\n")) for line in f]

    results, frames, boot, done = [], {}, None, None
    for line in lines:
        m = re.match(r"^(PASS|FAIL) (.*)$", line)
        if m:
            results.append((m.group(1), m.group(2)))
        elif line.startswith("DATA "):
            parts = line.split(" ", 2)
            if len(parts) == 3:
                frames[parts[1]] = base64.b64decode(parts[2])
        elif line.startswith("CAMERA-TEST boot "):
            boot = float(line.split()[2])
        elif line.startswith("CAMERA-TEST done "):
            done = float(line.split()[2])
    results += check_colours(frames, args.work)
    for name in EXPECTED:
        if not any(text.startswith(name) for _, text in results):
            results.append(("FAIL", f"{name}: no result from the VM"))
    if done is None:
        tail = " | ".join(l for l in lines[-8:] if l.strip())
        results.append(("FAIL", f"the VM did not finish its checks (qemu exit {args.qemu_rc}; console ends: {tail[-600:]})"))

    print()
    print("camera-test results:")
    for verdict, text in results:
        print(f"  {verdict} {text}")
    failed = sum(1 for v, _ in results if v == "FAIL")
    boot_text = f"{boot:.1f} s (kernel to /init)" if boot is not None else "unknown"
    checks_text = f"{done - boot:.1f} s" if boot is not None and done is not None else "unknown"
    print(f"camera-test: boot {boot_text}, checks {checks_text} in the VM, VM {args.vm_seconds:.1f} s, "
          f"total {args.total_seconds:.1f} s; {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
