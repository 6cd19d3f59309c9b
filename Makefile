# reconalign — build, run and test.
#   make run    the main job: Fashion-MNIST alignment curve -> out/ (JSON, CSV, PNG)
#   make test   everything CI checks (installs what it needs)
#   make bench  re-measure and rewrite BENCHMARKS.md
# Dependencies are Debian packages, installed when missing and possible.

SHELL := /bin/bash
GO    ?= go
PY    ?= /usr/bin/python3
DEBS  := libopenblas-dev liblapacke-dev libdeflate-dev pkg-config python3-numpy python3-scipy python3-sklearn dataset-fashion-mnist
FMNIST := /usr/share/datasets/fashion-mnist

# The openblas backend is compiled in when pkg-config finds OpenBLAS and
# LAPACKE; whole-file gzip inflation with libdeflate when it finds libdeflate.
HAVE_OPENBLAS   := $(shell pkg-config --exists openblas lapacke 2>/dev/null && echo yes)
HAVE_LIBDEFLATE := $(shell pkg-config --exists libdeflate 2>/dev/null && echo yes)
GOTAGS :=
ifeq ($(HAVE_OPENBLAS),yes)
  GOTAGS += openblas
  export CGO_LDFLAGS := $(shell pkg-config --libs openblas lapacke)
endif
ifeq ($(HAVE_LIBDEFLATE),yes)
  GOTAGS += libdeflate
endif
empty :=
space := $(empty) $(empty)
ifneq ($(strip $(GOTAGS)),)
  TAGS := -tags $(subst $(space),$(strip ,),$(strip $(GOTAGS)))
endif

# go-nvml's generated bindings call NVML functions that CUDA 13 deprecates.
export CGO_CFLAGS := -O2 -g -Wno-deprecated-declarations

BIN := bin/reconalign

.PHONY: all deps build run test test-go fuzz-smoke vet bench bench-quick gpu-check golden clean

all: build

# Install missing Debian packages (as root, or through sudo when available).
deps:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else \
	    echo "cannot install $$missing: run as root or install them with apt-get"; exit 0; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null \
	    || echo "warning: apt-get could not install $$missing; continuing with what is here"; \
	fi

build:
	@$(MAKE) --no-print-directory _build
_build:
	$(GO) build $(TAGS) -o $(BIN) ./cmd/reconalign

run: deps
	@$(MAKE) --no-print-directory _build
	@mkdir -p out
	@if [ -f $(FMNIST)/train-images-idx3-ubyte.gz ]; then \
	  $(BIN) align --data $(FMNIST)/train-images-idx3-ubyte.gz --labels $(FMNIST)/train-labels-idx1-ubyte.gz \
	    --out out/fashion-mnist-alignment.json --csv out/fashion-mnist-alignment.csv --plot out/fashion-mnist-alignment.png; \
	  echo "wrote out/fashion-mnist-alignment.{json,csv,png}"; \
	else \
	  echo "Fashion-MNIST not found in $(FMNIST): install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)."; \
	  echo "Showing the built-in synthetic dataset instead."; \
	  $(BIN) align --synthetic "N=20000,D=784,classes=10,alpha=2,seed=1" --out out/synthetic-alignment.json --plot out/synthetic-alignment.png; \
	fi

vet:
	$(GO) vet $(TAGS) ./...

test: deps
	@$(MAKE) --no-print-directory vet test-go fuzz-smoke bench-quick

test-go:
	CGO_ENABLED=0 $(GO) build ./...
	GOARCH=arm64 $(GO) build ./...
	$(GO) test $(TAGS) -count=1 ./...
	$(GO) test -tags purego -count=1 ./kernels/cpu/ ./backend/gonum/

# Each parser's fuzz target, briefly: it must never panic or hang. The budget
# is a count of inputs, not a duration: Go's fuzzer fails a time-boxed run
# whose worker is mid-input when the clock runs out, which a loaded 2-core
# machine makes flaky; a real hang still fails through the timeout.
FUZZ_TIME ?= 20000x
fuzz-smoke:
	@for f in $$(grep -ho '^func Fuzz[A-Za-z0-9]*' data/*_test.go | sed 's/func //'); do \
	  echo "fuzz $$f ($(FUZZ_TIME))"; \
	  timeout 240 $(GO) test $(TAGS) -run=NONE -fuzz="^$$f\$$" -fuzztime=$(FUZZ_TIME) ./data/ || exit 1; done

bench-quick: _build
	$(BIN) bench --suite quick --json out/bench-quick.json

bench: deps _build
	$(BIN) bench --suite standard --markdown BENCHMARKS.md --json out/bench.json

# Builds what the GPU machine runs (it has no Go, and maybe no OpenBLAS, so
# these binaries use the pure-Go CPU backend): see scripts/gpu-check.sh.
# Device call: carry [".gpu"], command "bash scripts/gpu-check.sh", timeout 420 s.
gpu-check:
	@mkdir -p .gpu
	$(GO) test -c -o .gpu/cuda.test ./backend/cuda
	$(GO) test -c -o .gpu/engine.test ./engine
	$(GO) build -o .gpu/reconalign ./cmd/reconalign
	@ls -la .gpu; echo "built .gpu/: on the GPU machine run  bash scripts/gpu-check.sh"

golden:
	$(PY) scripts/golden_alignment.py engine/testdata/golden_alignment.json

clean:
	rm -rf bin out .gpu
