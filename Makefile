# fer-live: set-up, build, demo and tests. The README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
APT_PACKAGES := libavcodec-dev libavformat-dev libswscale-dev libavutil-dev libv4l-dev \
                libopenblas-dev libturbojpeg0-dev libfreetype-dev libfontconfig-dev fonts-dejavu-core pkg-config ffmpeg \
                python3-venv chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/release/fer-live
DEMO_DIR := out/demo
VENV := .venv
PY := $(VENV)/bin/python

# make camera-test: qemu to boot Debian's kernel, busybox as the VM's userland, v4l2-ctl to
# drive vivid, cpio for the initramfs, binutils' strings to read module dependencies.
CAMERA_APT_PACKAGES := qemu-system-x86 busybox-static v4l-utils cpio binutils xz-utils

.PHONY: deps build demo test swift-test python-test venv slurm-test bench-batch sanitize fuzz clean camera-deps camera-test

# Installs the Debian packages that are missing (nothing is done when all are there).
# chromium: the --serve page's browser test (it skips without it). FreeType, fontconfig and
# DejaVu: the overlay's text.
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build -c release

# The main job on the embedded default input: the annotated video and CSV land in out/demo/.
demo: build
	@mkdir -p $(DEMO_DIR)
	bash tools/make_sample_video.sh $(DEMO_DIR)/sample.mp4
	$(BIN) annotate -y $(DEMO_DIR)/sample.mp4 -o $(DEMO_DIR)/annotated.mp4 --csv $(DEMO_DIR)/emotions.csv
	@echo "annotated video: $(DEMO_DIR)/annotated.mp4"
	@echo "per-frame emotions: $(DEMO_DIR)/emotions.csv"

test: deps swift-test python-test

swift-test:
	swift build --build-tests
	swift test --skip-build

# The whole test suite twice: under AddressSanitizer (Swift and the C kernels), then with the C
# kernels under UndefinedBehaviorSanitizer (swiftc 6.3 refuses -sanitize=undefined on Linux, so
# the Swift code gets its checks from the checked debug build instead; clang instruments the
# kernels with about 5,900 checks, any of which aborts the run). Each in its own build folder;
# out of `make test` (together about 10 minutes on 2 cores). Leak reports are off: the ones
# LeakSanitizer prints come from Foundation (Process, mapped Data) at exit, not from fer-live.
UBSAN_RT := $(shell dirname $$(readlink -f $$(which swift)))/../lib/clang/$(shell ls $$(dirname $$(readlink -f $$(which swift)))/../lib/clang 2>/dev/null | head -1)/lib/linux
sanitize: deps
	swift build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 swift test --skip-build --sanitize=address --scratch-path .build-asan
	swift build --build-tests --scratch-path .build-ubsan -Xcc -fsanitize=undefined \
	    -Xcc -fno-sanitize-recover=undefined -Xcc -fno-sanitize=function \
	    -Xlinker -L$(UBSAN_RT) -Xlinker -lclang_rt.ubsan_standalone-x86_64 -Xlinker -rpath -Xlinker $(UBSAN_RT)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 swift test --skip-build --scratch-path .build-ubsan

# libFuzzer over the parsers of untrusted bytes (safetensors, model JSON, FER2013 CSV), each for
# FUZZ_SECONDS (default 600, so about 32 minutes with the build); findings land in
# Fuzz/regressions/, which `make test` replays. Out of `make test` for its length.
FUZZ_SECONDS ?= 600
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash tools/fuzz.sh

# The training package's tests need PyTorch (CPU use only), installed into .venv once.
$(VENV)/.installed: training/requirements.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --retries 5 --timeout 120 -r training/requirements.txt
	touch $@

venv: $(VENV)/.installed

python-test: venv
	$(PY) -m pytest -q training/tests

# fer-live batch on a real Slurm: a private one-node cluster on localhost (installs slurm-wlm
# and munge if missing), an array job of 4 tasks over 8 clips, checked, daemons stopped.
slurm-test: build
	bash tools/slurm_test.sh

# The camera path against a real V4L2 driver: Debian's kernel with the vivid virtual camera in a
# qemu VM (TCG), the release binary inside; each check printed with PASS or FAIL (tools/camera_test.sh).
# The kernel package is cached in ~/.cache/fer-live-camera; about 2-3 minutes on 2 cores.
camera-deps:
	@missing=$$(for p in $(CAMERA_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

camera-test: build camera-deps
	bash tools/camera_test.sh $(BIN)

# batch over 20 copies of woman2.mp4 against 20 separate `log` runs, and 1 against 2 processes.
bench-batch: build
	bash tools/bench_batch.sh

clean:
	rm -rf .build .build-asan .build-ubsan .build-fuzz out
