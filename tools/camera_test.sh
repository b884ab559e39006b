#!/usr/bin/env bash
# make camera-test: fer-live's camera path against a real V4L2 driver. Boots Debian's kernel
# under qemu (TCG: the nested KVM of CI machines cannot start a guest) with a small initramfs
# (busybox, the vivid virtual camera driver and its modules, the release fer-live with every
# shared library it loads, models/, v4l2-ctl, a clip), runs tools/camera_test_guest.sh inside as
# /init, and reads its PASS/FAIL lines from the serial console. Exit 1 when any check fails or
# does not report. Nothing of the kernel or the image goes into the repository: the kernel
# package is cached in $FER_CAMERA_CACHE (default ~/.cache/fer-live-camera), the image is built
# in a temporary folder and removed.
#
# Usage: tools/camera_test.sh [BINARY]   (default .build/release/fer-live)
#   FER_CAMERA_KEEP=1      keep the image folder and the console log (printed at the end)
#   FER_CAMERA_TIMEOUT=S   seconds the VM may run (default 420)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
start=$(date +%s.%N)
binary=${1:-.build/release/fer-live}
cache=${FER_CAMERA_CACHE:-$HOME/.cache/fer-live-camera}
vm_timeout=${FER_CAMERA_TIMEOUT:-420}
[ -x "$binary" ] || { echo "camera-test: $binary is missing (make build)" >&2; exit 1; }
for tool in qemu-system-x86_64 busybox v4l2-ctl cpio ffmpeg python3; do
    command -v "$tool" >/dev/null || { echo "camera-test: $tool is missing (make camera-deps)" >&2; exit 1; }
done

# --- the kernel: Debian's linux-image-amd64 names the versioned package that holds vmlinuz and the modules
mkdir -p "$cache"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
kernel_package() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}'; }
fetch() {  # apt-get download writes into the current folder; its sandbox user may not write the cache.
    (cd "$cache" && apt-get download -q "$1" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
    ls "$cache"/"$1"_*.deb 2>/dev/null | head -1 || true
}
version_pkg=$(kernel_package)
# Package lists missing (a machine where nothing had to be installed) or stale: read them once.
[ -n "$version_pkg" ] || { $SUDO apt-get update -qq; version_pkg=$(kernel_package); }
[ -n "$version_pkg" ] || { echo "camera-test: apt-cache knows no linux-image-amd64, even after apt-get update" >&2; exit 1; }
kroot=$cache/$version_pkg
if [ ! -d "$kroot/boot" ]; then
    echo "camera-test: fetching $version_pkg into $cache"
    deb=$(fetch "$version_pkg")
    if [ -z "$deb" ]; then
        $SUDO apt-get update -qq
        version_pkg=$(kernel_package); kroot=$cache/$version_pkg
        deb=$(fetch "$version_pkg")
    fi
fi
if [ ! -d "$kroot/boot" ]; then
    [ -n "$deb" ] || { echo "camera-test: could not download $version_pkg (apt-get download failed twice)" >&2; exit 1; }
    rm -rf "$kroot.tmp" && dpkg -x "$deb" "$kroot.tmp" && mv "$kroot.tmp" "$kroot" && rm -f "$deb"
fi
kversion=${version_pkg#linux-image-}
vmlinuz=$kroot/boot/vmlinuz-$kversion
moddir=$kroot/lib/modules/$kversion

# --- the image
work=$(mktemp -d "${TMPDIR:-/var/tmp}/fer-live-camera.XXXXXX")
cleanup() { [ -n "${FER_CAMERA_KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
img=$work/root
mkdir -p "$img"/{bin,dev,proc,sys,tmp,etc,lib/modules,opt/fer-live,data,run}

# Modules in dependency order: each module's `depends=` from its .modinfo, depth first (the
# package has no modules.dep; depmod would need kmod on the host).
declare -A seen=()
order=()
module_file() { find "$moddir/kernel" -name "$1.ko*" -print -quit; }
add_module() {
    local name=$1 file deps dep
    [ -n "${seen[$name]:-}" ] && return
    seen[$name]=1
    file=$(module_file "$name")
    [ -n "$file" ] || { echo "camera-test: module $name not in $version_pkg" >&2; exit 1; }
    deps=$(strings -a "$file" | sed -n 's/^depends=//p' | head -1)
    for dep in ${deps//,/ }; do add_module "${dep//_/-}"; done
    case $file in
        *.xz) xz -dc "$file" >"$img/lib/modules/$name.ko" ;;
        *.zst) zstd -qdc "$file" >"$img/lib/modules/$name.ko" ;;
        *) cp "$file" "$img/lib/modules/$name.ko" ;;
    esac
    order+=("$name")
}
add_module vivid
printf '%s\n' "${order[@]}" >"$img/lib/modules/order"

# A program and every library the loader resolves for it, at the same absolute paths (so the
# binary's RUNPATH into the Swift toolchain still holds).
copy_with_libraries() {
    local program=$1 target=$2 lib
    cp -L "$program" "$img$target"
    for lib in $(ldd "$program" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
        [ -e "$img$lib" ] && continue
        mkdir -p "$img$(dirname "$lib")"
        cp -L "$lib" "$img$lib"
    done
}
cp "$(command -v busybox)" "$img/bin/busybox"
copy_with_libraries "$binary" /opt/fer-live/fer-live
cp -r models "$img/opt/fer-live/models"
copy_with_libraries "$(command -v v4l2-ctl)" /bin/v4l2-ctl
# x86-64's loader is found at /lib64 whatever ldd printed.
if [ ! -e "$img/lib64/ld-linux-x86-64.so.2" ]; then
    mkdir -p "$img/lib64" && cp -L /lib64/ld-linux-x86-64.so.2 "$img/lib64/"
fi
# The overlay's font, found by fontconfig as on the host (without it fontconfig complains once
# per run and the bitmap font is drawn).
mkdir -p "$img/usr/share/fonts/truetype"
cp -r /etc/fonts "$img/etc/fonts"
[ -d /usr/share/fonts/truetype/dejavu ] && cp -r /usr/share/fonts/truetype/dejavu "$img/usr/share/fonts/truetype/"
printf 'root:x:0:0:root:/root:/bin/sh\ncamera:x:1000:1000:camera test user:/tmp:/bin/sh\n' >"$img/etc/passwd"
printf 'root:x:0:\ncamera:x:1000:\n' >"$img/etc/group"
cp "${FER_CAMERA_GUEST:-tools/camera_test_guest.sh}" "$img/init"
chmod 755 "$img/init"

# The clip looped through vivid: real faces. woman2.mp4 from ../shared when there is one, else
# the sample video `make demo` makes from the astronaut picture. 640x480 YUYV, the format the
# looped HDMI input and output share; 24 frames (14.7 MB) repeated by v4l2-ctl.
clip=${FER_SHARED:-$root/../shared}/media/woman2.mp4
if [ ! -f "$clip" ]; then
    clip=$work/sample.mp4
    bash tools/make_sample_video.sh "$clip" >/dev/null
fi
ffmpeg -loglevel error -i "$clip" -frames:v 24 \
    -vf 'scale=640:480:force_original_aspect_ratio=decrease,pad=640:480:(ow-iw)/2:(oh-ih)/2' \
    -pix_fmt yuyv422 -f rawvideo "$img/data/clip.yuyv"
echo "clip: $(basename "$clip") as 24 frames of 640x480 YUYV" >"$img/data/clip.txt"

(cd "$img" && find . | cpio -o -H newc --quiet) >"$work/initrd.cpio"
image_s=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
echo "camera-test: image $(du -m "$work/initrd.cpio" | cut -f1) MB ready in ${image_s} s ($version_pkg, modules: ${order[*]})"

# --- boot and read the console
log=$work/console.log
boot_start=$(date +%s.%N)
set +e
timeout "$vm_timeout" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 \
    -kernel "$vmlinuz" -initrd "$work/initrd.cpio" \
    -append 'console=ttyS0 quiet panic=-1 rdinit=/init' \
    -nographic -no-reboot -monitor none -serial stdio </dev/null 2>&1 | tee "$log" \
    | grep -a --line-buffered -E '^(PASS|FAIL|INFO|CAMERA-TEST)' | sed -u 's/\r$//' 
qemu_rc=${PIPESTATUS[0]}
set -e
total_s=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
vm_s=$(python3 -c "import time; print(f'{time.time() - $boot_start:.1f}')")

rc=0
python3 tools/camera_test_report.py "$log" --qemu-rc "$qemu_rc" --vm-seconds "$vm_s" \
    --total-seconds "$total_s" --work "$work" || rc=$?
[ -n "${FER_CAMERA_KEEP:-}" ] && echo "camera-test: kept $work (console: $log)"
exit $rc
