#!/usr/bin/env bash
# gpu-check.sh — correctness check and timings of the CUDA backend on the GPU
# machine, in one device call.
#
# Go is not installed there: `make gpu-check` builds the binaries here into
# .gpu/ (which git ignores); this script is a tracked file and travels with
# the working tree. The device call (the Makefile's gpu-check target says the
# same):
#
#   carry [".gpu"], command "bash scripts/gpu-check.sh", timeout_s 420
#
# Before the first step it adds the GPU machine's driver and toolkit library
# folders (/usr/local/nvidia/lib64, /usr/local/cuda/lib64, ...: the list is
# under "Libraries" below) to LD_LIBRARY_PATH and prints which CUDA sonames
# resolve. Steps, each bounded by its own limit and by one deadline
# for the whole check (GPU_CHECK_SECONDS, 390 s by default, inside the
# call's 420 s), with KILL GPU_CHECK_KILL_GRACE s (5) after TERM:
#   1. cuda-test: .gpu/cuda.test -test.v with RECONALIGN_REQUIRE_GPU=1, so
#      that a GPU backend that fails to open FAILS instead of skipping; the
#      CPU stand-in's subtests are left to CI;
#   2. devices: .gpu/reconalign devices (the hardware report);
#   3. engine-check: .gpu/engine.test -test.run TestGPUCheck: Gram per
#      precision at D = 12,288 (65,536 rows), eigh 4,096 and 12,288, and the
#      end-to-end alignment of an ImageNet-64-sized uint8 dataset in host RAM;
#   4. torch-reference: scripts/gpu_reference_torch.py, PyTorch doing the
#      same work, with the library path the machine had (PyTorch brings its
#      own CUDA libraries); skipped when under a minute is left.
# A summary table (each step's result, seconds, limit and a note) is printed
# last whatever happens, also on SIGTERM or SIGINT, and written to
# $OUT/summary.txt when OUT (the device call's output folder) is set; it is
# rewritten there after every step, so even a SIGKILL leaves the table of the
# steps before. Logs go to $OUT, else to <bin>/logs. The exit status is 0 only
# when every step passed or was skipped by design.
#
# Environment: GPU_BIN (the binaries' folder, default .gpu in the repository),
# GPU_CHECK_SECONDS, GPU_CHECK_KILL_GRACE, OUT.

set -u
start_ns=$(date +%s%N)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=$(realpath -m "${GPU_BIN:-$ROOT/.gpu}")
OUT=${OUT:-}
[ -n "$OUT" ] && OUT=$(realpath -m "$OUT")
cd "$ROOT" || exit 2

DEADLINE=${GPU_CHECK_SECONDS:-390}
GRACE=${GPU_CHECK_KILL_GRACE:-5}
for v in DEADLINE GRACE; do
	if ! [[ ${!v} =~ ^[0-9]+$ ]]; then
		echo "gpu-check: $v must be a whole number of seconds, got '${!v}'" >&2
		exit 2
	fi
done
RESERVE=3        # seconds kept for the summary at the end
MIN_STEP=10      # a step given less than this is not started
TORCH_MIN=60     # the PyTorch reference needs at least this much left
STEPS=(cuda-test devices engine-check torch-reference)

LOGS=${OUT:-$BIN/logs}
if ! mkdir -p "$LOGS" 2>/dev/null || ! [ -w "$LOGS" ]; then
	LOGS=$(mktemp -d)
fi

names=() results=() seconds=() limits=() notes=()
current='' current_t0=0 current_limit=0 step_pid='' tail_pid='' interrupted='' lib_summary='not checked'

now_ns() { date +%s%N; }
elapsed() { echo $((($(now_ns) - start_ns + 999999999) / 1000000000)); } # rounded up
remaining() { echo $((DEADLINE - $(elapsed))); }
# tenths NS: seconds since NS with one decimal.
tenths() {
	local ds=$((($(now_ns) - $1) / 100000000))
	echo "$((ds / 10)).$((ds % 10))"
}

record() { # NAME RESULT SECONDS LIMIT NOTE
	names+=("$1") results+=("$2") seconds+=("$3") limits+=("$4") notes+=("$5")
}

# failing is true for a result that makes the check fail.
failing() { [ "$1" != PASS ] && [ "$1" != SKIPPED ]; }

summary_table() {
	local i s found status=0
	printf 'GPU check summary: deadline %s s, %s s used\n' "$DEADLINE" "$(elapsed)"
	printf '%-16s %-12s %8s %6s  %s\n' step result seconds limit notes
	printf '%-16s %-12s %8s %6s  %s\n' ---------------- ------------ -------- ------ -----
	for i in "${!names[@]}"; do
		printf '%-16s %-12s %8s %6s  %s\n' "${names[$i]}" "${results[$i]}" "${seconds[$i]}" "${limits[$i]}" "${notes[$i]}"
		failing "${results[$i]}" && status=1
	done
	for s in "${STEPS[@]}"; do
		found=''
		for i in "${!names[@]}"; do [ "${names[$i]}" = "$s" ] && found=1; done
		if [ -z "$found" ] && [ "$s" != "$current" ]; then
			printf '%-16s %-12s %8s %6s  %s\n' "$s" NOT-RUN - - ''
			status=1
		elif [ -z "$found" ]; then
			printf '%-16s %-12s %8s %6s  %s\n' "$s" RUNNING "$(tenths "$current_t0")" "$current_limit" ''
			status=1
		fi
	done
	echo "libraries: $lib_summary"
	echo "logs: $LOGS"
	return $status
}

save_summary() {
	[ -n "$OUT" ] && summary_table >"$OUT/summary.txt" 2>/dev/null
	return 0
}

# finish prints the logged timings and the summary table last, whatever
# ended the script, and sets the exit status.
finish() {
	local status
	trap - EXIT TERM INT
	echo
	echo "GPU Gram timings (TestGPUMediumGram, N = 4,099, D = 517, one run each):"
	local timings
	timings=$(grep -E 'data, (fp64|fp32|tf32|bf16|exact-u8), shift' "$LOGS/cuda-test.log" 2>/dev/null | sed -E 's/^ *gpu_test.go:[0-9]+: /  /')
	echo "${timings:-  (none logged)}"
	for f in engine-check torch-reference; do
		[ -f "$LOGS/$f.log" ] && sed -n '/^GPU check/,$p' "$LOGS/$f.log" | grep -v -- '^--- \|^PASS\|^FAIL\|^ok \|^=== '
	done
	echo
	summary_table
	status=$?
	save_summary
	if [ -n "$interrupted" ]; then
		status=$interrupted
	fi
	exit $status
}

# on_signal stops the running step and leaves through finish.
on_signal() { # SIGNAL CODE
	trap - TERM INT
	echo
	echo "gpu-check: SIG$1 after $(elapsed) s; stopping ${current:-nothing}"
	[ -n "$step_pid" ] && kill -TERM "$step_pid" 2>/dev/null
	if [ -n "$current" ]; then
		record "$current" INTERRUPTED "$(tenths "$current_t0")" "$current_limit" "SIG$1 reached the script"
		current=''
	fi
	# Give the step a moment to write its last lines, not its whole grace,
	# then kill what is left of it: timeout made itself the leader of the
	# step's process group.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -n "$step_pid" ] && kill -0 "$step_pid" 2>/dev/null || break
		sleep 0.2
	done
	if [ -n "$step_pid" ] && kill -0 "$step_pid" 2>/dev/null; then
		kill -KILL -- "-$step_pid" 2>/dev/null || kill -KILL "$step_pid" 2>/dev/null
	fi
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	interrupted=$((128 + $2))
	exit "$interrupted"
}
trap finish EXIT
trap 'on_signal TERM 15' TERM
trap 'on_signal INT 2' INT

# ---------------------------------------------------------------------------
# Libraries: the GPU machine's folders on the search path, then which sonames
# resolve, the way the dynamic loader looks: LD_LIBRARY_PATH, its cache
# (ldconfig -p), then the default folders.

orig_ld_set=${LD_LIBRARY_PATH+set}
orig_ld=${LD_LIBRARY_PATH-}
ld=$orig_ld
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/local/cuda/targets/x86_64-linux/lib /usr/local/cuda/lib64; do
	case ":$ld:" in *":$d:"*) ;; *) ld=${ld:+$ld:}$d ;; esac
done
export LD_LIBRARY_PATH=$ld

ldcache=''
for c in ldconfig /sbin/ldconfig /usr/sbin/ldconfig; do
	if command -v "$c" >/dev/null 2>&1; then
		ldcache=$("$c" -p 2>/dev/null) && break
	fi
done
IFS=: read -r -a search_dirs <<<"$LD_LIBRARY_PATH"
default_dirs=(/lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu /lib64 /usr/lib64 /lib /usr/lib)

# resolve PATTERN: prints the file the loader would open for the soname (a
# shell pattern for the NVRTC builtins, whose name carries NVRTC's version).
resolve() {
	local d f hit
	for d in "${search_dirs[@]}"; do
		[ -n "$d" ] || continue
		for f in "$d"/$1; do
			[ -e "$f" ] && { echo "$f"; return 0; }
		done
	done
	hit=$(awk -v pat="$1" '
		BEGIN { gsub(/\./, "\\.", pat); gsub(/\*/, ".*", pat); pat = "^" pat "$" }
		$1 ~ pat && /x86-64/ { print $NF; exit }' <<<"$ldcache")
	[ -n "$hit" ] && { echo "$hit"; return 0; }
	for d in "${default_dirs[@]}"; do
		for f in "$d"/$1; do
			[ -e "$f" ] && { echo "$f"; return 0; }
		done
	done
	return 1
}

# Each line: what, whether the backend needs it, the sonames to try in order.
libraries=(
	"driver|yes|libcuda.so.1"
	"NVML|no|libnvidia-ml.so.1"
	"runtime|yes|libcudart.so.13 libcudart.so.12"
	"cuBLAS|yes|libcublas.so.13 libcublas.so.12"
	"cuBLASLt|yes|libcublasLt.so.13 libcublasLt.so.12"
	"cuSOLVER|yes|libcusolver.so.12 libcusolver.so.11"
	"cuSPARSE|yes|libcusparse.so.12"
	"nvJitLink|yes|libnvJitLink.so.13 libnvJitLink.so.12"
	"NVRTC|yes|libnvrtc.so.13 libnvrtc.so.12"
	"NVRTC builtins|yes|BUILTINS"
	"cuRAND|no|libcurand.so.10"
)

library_report() {
	local entry what need sonames so path nvrtc_major='' found=0 total=0 missing=()
	echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
	echo "ldconfig cache: $(if [ -n "$ldcache" ]; then echo "$(grep -c '=>' <<<"$ldcache") entries"; else echo 'not readable'; fi)"
	for entry in "${libraries[@]}"; do
		IFS='|' read -r what need sonames <<<"$entry"
		if [ "$sonames" = BUILTINS ]; then # named for NVRTC's version: libnvrtc-builtins.so.13.0
			sonames="libnvrtc-builtins.so.${nvrtc_major}*"
		fi
		path=''
		for so in $sonames; do
			if path=$(resolve "$so"); then
				break
			fi
			path=''
		done
		total=$((total + 1))
		if [ -n "$path" ]; then
			found=$((found + 1))
			case $so in libnvrtc.so.*) nvrtc_major=${so#libnvrtc.so.}. ;; esac # e.g. "13."
			printf '  %-15s %-3s %-24s %s' "$what" "$need" "$(basename "$path")" "$path"
			[ -L "$path" ] && printf ' -> %s' "$(readlink -f "$path")"
			echo
		else
			printf '  %-15s %-3s %-24s %s\n' "$what" "$need" MISSING "tried: $sonames"
			if [ "$need" = yes ]; then missing+=("$what"); else missing+=("$what (optional)"); fi
		fi
	done
	if [ ${#missing[@]} -eq 0 ]; then
		lib_summary="all $total resolve"
	else
		lib_summary="$found of $total resolve; missing: $(printf '%s, ' "${missing[@]}" | sed 's/, $//')"
	fi
}

# ---------------------------------------------------------------------------
# Steps.

# runnable FILE: prints a path to FILE that can be executed, restoring the
# mode the copy may have lost (or copying it where it can be set).
runnable() {
	[ -f "$1" ] || return 1
	[ -x "$1" ] || chmod +x "$1" 2>/dev/null
	if [ -x "$1" ]; then
		echo "$1"
		return 0
	fi
	local tmp
	tmp=$(mktemp -d) && cp "$1" "$tmp/" && chmod +x "$tmp/$(basename "$1")" && echo "$tmp/$(basename "$1")"
}

# step NAME LIMIT DIR COMMAND...: runs COMMAND in DIR with the smaller of
# LIMIT and what the deadline leaves, output to $LOGS/NAME.log and the
# terminal, and records its result. An argument @TEST.TIMEOUT@ becomes a Go
# test timeout a little under the limit, so that a hung test prints its
# goroutines before it is killed.
step() {
	local name=$1 own=$2 dir=$3
	shift 3
	local left limit log=$LOGS/$name.log t0 rc result note='' args=() a
	left=$(($(remaining) - GRACE - RESERVE))
	limit=$((own < left ? own : left))
	if ((limit < MIN_STEP)); then
		record "$name" NO-TIME 0 - "deadline: $(remaining) s left, a step needs $((MIN_STEP + GRACE + RESERVE))"
		save_summary
		return
	fi
	for a in "$@"; do
		[ "$a" = @TEST.TIMEOUT@ ] && a="-test.timeout=$((limit > 4 ? limit - 3 : 1))s"
		args+=("$a")
	done
	echo "=== $name (limit $limit s, $(remaining) s left): ${args[*]}"
	: >"$log"
	t0=$(now_ns)
	current=$name current_t0=$t0 current_limit=$limit
	save_summary
	(cd "$dir" && exec timeout --kill-after="$GRACE" "$limit" "${args[@]}") >"$log" 2>&1 &
	step_pid=$!
	tail -n +1 -s 0.5 --pid="$step_pid" -f "$log" 2>/dev/null &
	tail_pid=$!
	wait "$step_pid"
	rc=$?
	wait "$tail_pid" 2>/dev/null
	step_pid='' tail_pid='' current=''
	case $rc in
	0) result=PASS ;;
	124) result=TIMEOUT note="stopped at its $limit s limit" ;;
	137) result=TIMEOUT note="killed $GRACE s after its $limit s limit" ;;
	126) result="FAIL($rc)" note="not executable" ;;
	127) result="FAIL($rc)" note="command or a library it needs not found" ;;
	*) result="FAIL($rc)" ;;
	esac
	if grep -q '^panic: test timed out' "$log"; then
		result=TIMEOUT note="Go test timeout under the $limit s limit; goroutines in $name.log"
	fi
	record "$name" "$result" "$(tenths "$t0")" "$limit" "$note"
	save_summary
}

# last_step: the name of the last recorded step.
last_step() { [ ${#names[@]} -gt 0 ] && echo "${names[${#names[@]}-1]}"; }

# note_last TEXT: sets the note of the last recorded step, after its own.
note_last() {
	local i=$((${#notes[@]} - 1))
	notes[i]=${notes[i]:+${notes[i]}; }$1
	save_summary
}

# binary_step NAME LIMIT DIR FILE ARGS...: step on a carried binary, or a
# MISSING row when it was not built.
binary_step() {
	local name=$1 limit=$2 dir=$3 file=$4 exe
	shift 4
	if ! exe=$(runnable "$file"); then
		record "$name" MISSING 0 - "$file not built or not runnable (run make gpu-check here and carry .gpu)"
		save_summary
		echo "=== $name: $file is missing"
		return
	fi
	step "$name" "$limit" "$dir" "$exe" "$@"
}

# ---------------------------------------------------------------------------

echo "reconalign GPU check, $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname), deadline $DEADLINE s"
echo "binaries: $BIN; logs: $LOGS"
if command -v nvidia-smi >/dev/null 2>&1; then
	timeout 20 nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version --format=csv,noheader
else
	echo "nvidia-smi: not found"
fi
echo "CUDA libraries (what, needed by the backend, soname, file):"
library_report >"$LOGS/libraries.txt" # in this shell: it sets lib_summary
cat "$LOGS/libraries.txt"
save_summary

export RECONALIGN_REQUIRE_GPU=1
binary_step cuda-test 120 backend/cuda "$BIN/cuda.test" -test.v @TEST.TIMEOUT@ -test.skip '/^fake$|//^fake$'
if [ -f "$LOGS/cuda-test.log" ] && [ "$(last_step)" = cuda-test ]; then
	pass=$(grep -c -- '--- PASS' "$LOGS/cuda-test.log")
	fail=$(grep -c -- '--- FAIL' "$LOGS/cuda-test.log")
	skip=$(grep -c -- '--- SKIP' "$LOGS/cuda-test.log")
	failed=$(sed -n 's/^--- FAIL: \([^ ]*\).*/\1/p' "$LOGS/cuda-test.log" | awk 'NR <= 4 { printf "%s%s", sep, $0; sep = " " } NR == 5 { printf " …" }')
	note_last "tests and subtests: $pass passed, $fail failed, $skip skipped${failed:+; failed: $failed}"
fi

binary_step devices 30 "$ROOT" "$BIN/reconalign" devices

export RECONALIGN_GPU_CHECK=1
binary_step engine-check 180 engine "$BIN/engine.test" -test.run '^TestGPUCheck$' -test.v @TEST.TIMEOUT@
if [ -f "$LOGS/engine-check.log" ] && [ "$(last_step)" = engine-check ]; then
	failed=$(sed -n '/^GPU check/,$p' "$LOGS/engine-check.log" | grep -c 'FAILED:')
	[ "$failed" -gt 0 ] && note_last "stages failed: $failed (see the engine table)"
fi

# PyTorch loads its own CUDA libraries: run it with the library path the
# machine had, not ours.
if [ "$orig_ld_set" = set ]; then
	torch_env=(env "LD_LIBRARY_PATH=$orig_ld")
else
	torch_env=(env -u LD_LIBRARY_PATH)
fi
left=$(remaining)
if ! command -v python3 >/dev/null 2>&1; then
	record torch-reference SKIPPED 0 - "python3 not found"
elif ! python3 -c 'import importlib.util as u, sys; sys.exit(u.find_spec("torch") is None)' 2>/dev/null; then
	record torch-reference SKIPPED 0 - "python3 has no torch"
elif ((left < TORCH_MIN)); then
	record torch-reference SKIPPED 0 - "under a minute left ($left s)"
else
	step torch-reference 150 "$ROOT" "${torch_env[@]}" PYTHONUNBUFFERED=1 python3 scripts/gpu_reference_torch.py
fi
exit 0 # finish (the EXIT trap) prints the table and sets the status
