# reconalign — build, run and test.
#   make run    the main job: Fashion-MNIST alignment curve -> out/ (JSON, CSV, PNG)
#   make test   everything CI checks (installs what it needs)
#   make bench  re-measure and rewrite BENCHMARKS.md (make bench-large: the large shapes)
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

.PHONY: all deps build run test test-go test-beam fuzz-smoke vet bench bench-quick bench-large gpu-check gpu-check-smoke golden clean beam

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
	@$(MAKE) --no-print-directory vet test-go test-beam fuzz-smoke bench-quick gpu-check-smoke

# The race detector runs on the tests where goroutines meet: one Engine
# shared by many (its backend pools), the read-ahead of a pass, the
# Monte Carlo workers, and the band reduction's look-ahead; the rest would
# only make a 2-core CI slower.
RACE_TESTS := Shared|Fallback|Routing|Moments|Merge|MonteCarlo
test-go:
	CGO_ENABLED=0 $(GO) build ./...
	GOARCH=arm64 $(GO) build ./...
	$(GO) test $(TAGS) -count=1 ./...
	$(GO) test $(TAGS) -race -count=1 -short -run '$(RACE_TESTS)' ./engine ./closedform
	$(GO) test $(TAGS) -race -count=1 -run 'TestReduceToBand$$' ./spectral
	$(GO) test -tags purego -count=1 ./kernels/cpu/ ./backend/gonum/

# The Beam pipeline (its own module under beam/, so that the core never
# pulls Beam's dependencies): vet, then its tests on the in-process Prism
# runner, built with CGO_ENABLED=0 as the workers of Dataflow and Flink are.
# A fresh machine downloads the modules (about 300 MB) and compiles them
# first: a few minutes on two cores; with a warm cache the tests take ~1 min.
test-beam:
	cd beam && $(GO) mod download
	cd beam && CGO_ENABLED=0 $(GO) vet ./...
	cd beam && CGO_ENABLED=0 $(GO) test -count=1 ./...

# reconalign-beam: the launcher (in-process Prism runs the bundles here, so
# it takes the OpenBLAS backend when built in) and the worker binary for
# Dataflow, Flink and portable runners (--worker_binary): CGO_ENABLED=0,
# linux/amd64, as Beam's Go SDK container needs.
beam:
	cd beam && $(GO) mod download
	cd beam && $(GO) build $(TAGS) -o ../bin/reconalign-beam ./cmd/reconalign-beam
	cd beam && CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -o ../bin/reconalign-beam-worker ./cmd/reconalign-beam

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

# The open goals' shapes (8,192 × 4,096, D = 12,288, ImageNet-224 dual, the
# moments file against Beam): tens of minutes on two cores, so not in bench.
bench-large: deps _build beam
	$(BIN) bench --suite large --markdown BENCHMARKS.md --json out/bench-large.json

# Builds what the GPU machine runs into $(GPU_DIR) (.gpu, which git ignores):
# it has no Go, and maybe no OpenBLAS, so these binaries use the pure-Go CPU
# backend beside the GPU one. scripts/gpu-check.sh (tracked, so it travels
# with the working tree) runs them there, within its own 390 s deadline:
# device call: carry [".gpu"], command "bash scripts/gpu-check.sh", timeout_s 420.
GPU_DIR ?= .gpu
gpu-check:
	@mkdir -p $(GPU_DIR)
	$(GO) test -c -o $(GPU_DIR)/cuda.test ./backend/cuda
	$(GO) test -c -o $(GPU_DIR)/engine.test ./engine
	$(GO) build -o $(GPU_DIR)/reconalign ./cmd/reconalign
	@ls -la $(GPU_DIR); echo "built $(GPU_DIR)/: device call: carry [\".gpu\"], command \"bash scripts/gpu-check.sh\", timeout_s 420"

# CI's test of the GPU check without a GPU: it ends within a minute with its
# table and a non-zero status, keeps its deadline, and survives SIGTERM
# (scripts/gpu-check-smoke.sh).
gpu-check-smoke:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(MAKE) --no-print-directory gpu-check GPU_DIR=$$tmp/bin >/dev/null && \
	  bash scripts/gpu-check-smoke.sh $$tmp/bin

golden:
	$(PY) scripts/golden_alignment.py engine/testdata/golden_alignment.json

clean:
	rm -rf bin out .gpu
