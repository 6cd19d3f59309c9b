#!/usr/bin/env bash
# gpu-check-smoke.sh BIN — CI's test of scripts/gpu-check.sh, on a machine
# without a GPU, CUDA or network (make gpu-check-smoke builds BIN first, as
# make gpu-check does .gpu/). It checks what the one GPU run depends on:
#   1. the carried binaries need no library but the C library's (the GPU
#      machine has no OpenBLAS or libdeflate);
#   2. with the real binaries and no GPU, the check ends within a minute with
#      its summary table (on the terminal and in $OUT/summary.txt), a row
#      for every step and a non-zero status;
#   3. with stand-in binaries that hang and ignore SIGTERM, the deadline
#      holds: the hung step is killed after its grace, the steps after it are
#      not started, and the table still comes;
#   4. SIGTERM to the check stops the running step at once and prints the
#      table, with status 143 and no step process left behind.
set -u
if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BIN_DIR (built by: make gpu-check GPU_DIR=BIN_DIR)" >&2
	exit 2
fi
BIN=$(realpath "$1")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=$(mktemp -d)
token=gpu-check-stub-$$
cleanup() {
	local p
	for p in $(pgrep -f "$token" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# run NAME SECONDS_LIMIT ENV...: runs the check with ENV in the background,
# its output in $work/NAME.out and $OUT = $work/NAME; sets rc and took (s).
run() {
	local name=$1
	shift
	mkdir -p "$work/$name"
	local t0
	t0=$(date +%s%N)
	env OUT="$work/$name" "$@" bash "$ROOT/scripts/gpu-check.sh" >"$work/$name.out" 2>&1 &
	pid=$!
	if [ -n "${term_after:-}" ]; then
		sleep "$term_after"
		kill -TERM "$pid"
	fi
	wait "$pid"
	rc=$?
	took=$((($(date +%s%N) - t0) / 1000000))
	echo "--- $name: status $rc after $((took / 1000)).$((took % 1000 / 100)) s"
}

# table_ok NAME: the summary table closes the output, with a row per step,
# and is also in $OUT/summary.txt.
table_ok() {
	local name=$1 s
	local tail_lines
	tail_lines=$(sed -n '/^GPU check summary/,$p' "$work/$name.out")
	if [ -z "$tail_lines" ]; then
		fail "$name: no summary table in the output"
		sed 's/^/    /' "$work/$name.out" | tail -20
		return
	fi
	for s in cuda-test devices engine-check torch-reference; do
		grep -q "^$s " <<<"$tail_lines" || fail "$name: no row for $s in the table"
	done
	[ "$(tail -n 1 "$work/$name.out" | cut -d' ' -f1)" = logs: ] || fail "$name: the table is not the last thing printed"
	grep -q '^GPU check summary' "$work/$name/summary.txt" 2>/dev/null || fail "$name: no table in \$OUT/summary.txt"
	echo "$tail_lines" | sed 's/^/    /'
}

# 1. Only the C library.
if command -v readelf >/dev/null; then
	for f in cuda.test engine.test reconalign; do
		extra=$(readelf -d "$BIN/$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -v -E '^(libc\.so\.6|ld-linux-x86-64\.so\.2|libdl\.so\.2|libpthread\.so\.0|libm\.so\.6)$')
		[ -z "$extra" ] || fail "$f needs $(echo "$extra" | paste -sd' ' -), which the GPU machine may lack"
	done
else
	echo "readelf not found: the binaries' libraries are not checked"
fi

# 2. The real binaries, no GPU.
term_after='' run no-gpu GPU_BIN="$BIN"
table_ok no-gpu
if grep -qE '^  driver +yes +MISSING' "$work/no-gpu.out"; then
	[ "$rc" -ne 0 ] || fail "no-gpu: status 0 without a GPU"
	[ "$took" -lt 60000 ] || fail "no-gpu: took $took ms, over a minute"
	grep -qE '^cuda-test +FAIL' "$work/no-gpu.out" || fail "no-gpu: cuda-test did not fail (RECONALIGN_REQUIRE_GPU=1 must turn skips into failures)"
	[ "$(grep -c '^CUDA libraries' "$work/no-gpu.out")" -eq 1 ] || fail "no-gpu: the library report is not printed exactly once"
	[ "$(grep -n -m1 '^CUDA libraries' "$work/no-gpu.out" | cut -d: -f1)" -lt "$(grep -n -m1 '^=== ' "$work/no-gpu.out" | cut -d: -f1)" ] ||
		fail "no-gpu: the library report does not come before the first step"
	grep -qE '^  driver +yes +MISSING +tried: libcuda.so.1$' "$work/no-gpu/libraries.txt" || fail "no-gpu: no library report in \$OUT/libraries.txt"
else
	echo "libcuda.so.1 resolves here: the no-GPU expectations do not apply"
fi

# Stand-ins for the three binaries that hang and ignore SIGTERM.
mkdir -p "$work/stub"
for f in cuda.test engine.test reconalign; do
	printf '#!/usr/bin/env bash\ntrap "" TERM\necho "stand-in %s"\nexec -a %s sleep 1000\n' "$f" "$token" >"$work/stub/$f"
done # left without the x bit: the check must set it

# 3. The deadline: 17 s, 2 s grace: cuda-test gets 17 − 2 − 3 = 12 s less
# the (whole) seconds before it starts, is killed 2 s later, and nothing else
# fits.
term_after='' run deadline GPU_BIN="$work/stub" GPU_CHECK_SECONDS=17 GPU_CHECK_KILL_GRACE=2
table_ok deadline
[ "$rc" -ne 0 ] || fail "deadline: status 0"
[ "$took" -lt 17000 ] || fail "deadline: took $took ms, past the 17 s deadline"
grep -qE '^cuda-test +TIMEOUT .*killed 2 s after its 1[0-1] s limit' "$work/deadline.out" || fail "deadline: cuda-test not killed after its grace"
grep -qE '^engine-check +NO-TIME' "$work/deadline.out" || fail "deadline: engine-check was started past the deadline"

# 4. SIGTERM after 2 s.
term_after=2 run sigterm GPU_BIN="$work/stub"
table_ok sigterm
[ "$rc" -eq 143 ] || fail "sigterm: status $rc, want 143"
[ "$took" -lt 8000 ] || fail "sigterm: took $took ms to stop (2 s in)"
grep -qE '^cuda-test +INTERRUPTED' "$work/sigterm.out" || fail "sigterm: the running step is not marked INTERRUPTED"
sleep 0.5
if pgrep -f "$token" >/dev/null; then
	fail "sigterm: a step process outlived the check (kill-after did not reach it)"
fi

if [ "$failures" -gt 0 ]; then
	echo "gpu-check smoke: $failures failures"
	exit 1
fi
echo "gpu-check smoke: ok"
