#!/usr/bin/env bash
# gpu-check.sh — correctness check of the CUDA backend on the GPU machine.
#
# Go is not installed there: `make gpu-check` builds the binaries here into
# .gpu/ (which git ignores), the device call carries .gpu/ over, and this
# script runs them from the repository root:
#
#   bash scripts/gpu-check.sh            # or: bash .gpu/gpu-check.sh
#
# Steps (each bounded by a timeout; the whole check stays under 5 minutes):
#   1. .gpu/cuda.test -test.v with RECONALIGN_REQUIRE_GPU=1, so that a GPU
#      backend that fails to open FAILS instead of skipping;
#   2. .gpu/reconalign devices (the hardware report);
#   3. .gpu/engine.test -test.run TestGPUCheck: Gram per precision at
#      D = 12,288 (65,536 rows), eigh 4,096 and 12,288, and the end-to-end
#      alignment of an ImageNet-64-sized uint8 dataset in host RAM;
#   4. scripts/gpu_reference_torch.py: PyTorch doing the same work.
# Logs go to $OUT (the device call's output folder) when it is set, else to
# .gpu/logs. A summary table is printed last; the exit status is non-zero when
# any step failed.

set -u
export RECONALIGN_REQUIRE_GPU=1
BIN=${GPU_BIN:-.gpu}
LOGS=${OUT:-$BIN/logs}
mkdir -p "$LOGS"

names=() results=() seconds=() notes=()

# step NAME TIMEOUT_SECONDS COMMAND...: runs the command with its output in
# $LOGS/NAME.log (and on the terminal), recording result and duration.
step() {
	local name=$1 limit=$2
	shift 2
	local log="$LOGS/$name.log" start end rc
	echo "=== $name: $*"
	if [ ! -x "$1" ]; then
		names+=("$name") results+=(MISSING) seconds+=(0) notes+=("$1 not built (run make gpu-check)")
		echo "--- $name: $1 is missing"
		return
	fi
	start=$(date +%s%N)
	timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	end=$(date +%s%N)
	local ds=$(((end - start) / 100000000)) # tenths of a second
	names+=("$name") seconds+=("$((ds / 10)).$((ds % 10))")
	case $rc in
	0) results+=(PASS) ;;
	124 | 137) results+=(TIMEOUT) ;;
	*) results+=("FAIL($rc)") ;;
	esac
	notes+=("")
}

echo "reconalign GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname)"
if command -v nvidia-smi >/dev/null; then
	nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv,noheader
fi

step cuda-test 180 "$BIN/cuda.test" -test.v -test.timeout=170s
if [ -f "$LOGS/cuda-test.log" ]; then
	pass=$(grep -c -- '^--- PASS' "$LOGS/cuda-test.log")
	fail=$(grep -c -- '^--- FAIL' "$LOGS/cuda-test.log")
	skip=$(grep -c -- '--- SKIP' "$LOGS/cuda-test.log")
	notes[${#notes[@]} - 1]="tests: $pass passed, $fail failed; $skip subtests skipped (2 by design: stand-in fp32/tf32)"
fi

step devices 60 "$BIN/reconalign" devices

# The ImageNet-64-sized table (engine/gpucheck_test.go), then PyTorch doing
# the same work in the same call.
export RECONALIGN_GPU_CHECK=1
step engine-check 150 "$BIN/engine.test" -test.run "^TestGPUCheck$" -test.v -test.timeout=140s
if command -v python3 >/dev/null && python3 -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null; then
	step torch-reference 150 "$(command -v python3)" scripts/gpu_reference_torch.py
else
	names+=(torch-reference) results+=(SKIPPED) seconds+=(0) notes+=("python3 with CUDA torch not found")
fi

echo
echo "GPU Gram timings (TestGPUMediumGram, N = 4,099, D = 517, one run each):"
timings=$(grep -E 'data, (fp64|fp32|tf32|bf16|exact-u8), shift' "$LOGS/cuda-test.log" 2>/dev/null | sed -E 's/^ *gpu_test.go:[0-9]+: /  /')
echo "${timings:-  (none logged)}"

for f in engine-check torch-reference; do
	[ -f "$LOGS/$f.log" ] && sed -n '/^GPU check/,$p' "$LOGS/$f.log" | grep -v -- '^--- \|^PASS\|^FAIL\|^ok '
done

echo
printf '%-12s %-10s %8s  %s\n' step result seconds notes
printf '%-12s %-10s %8s  %s\n' ------------ ---------- -------- -----
status=0
for i in "${!names[@]}"; do
	printf '%-12s %-10s %8s  %s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}" "${notes[$i]}"
	[ "${results[$i]}" = PASS ] || status=1
done
echo "logs: $LOGS"
exit $status
