# fer-live: set-up, build, demo and tests. The README's two commands are `make demo` and `make test`.
SHELL := /bin/bash
APT_PACKAGES := libavcodec-dev libavformat-dev libswscale-dev libavutil-dev libv4l-dev \
                libopenblas-dev pkg-config ffmpeg python3-venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
BIN := .build/release/fer-live
DEMO_DIR := out/demo

.PHONY: deps build demo test swift-test python-test venv clean

# Installs the Debian packages that are missing (nothing is done when all are there).
deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	swift build -c release

# The main job on the embedded default input.
demo: build
	@mkdir -p $(DEMO_DIR)
	bash tools/make_sample_video.sh $(DEMO_DIR)/sample.mp4
	$(BIN) probe $(DEMO_DIR)/sample.mp4

test: deps swift-test

swift-test:
	swift build --build-tests
	swift test --skip-build

clean:
	rm -rf .build out
