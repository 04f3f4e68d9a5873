#!/bin/sh
# Runs every test program given, each of which reports cmocka results, then
# (with --usermm PATH) the scenarios:
#   tests/scenarios/*.ums  run on the sim back end, then on the kernel back end;
#   tests/diff/*.ums       usermm diff: both back ends must print the same transcript;
#   tests/tool/*.sh        the command itself (exit statuses, messages, JSON) and
#                          make install, each run as `sh TEST USERMM` from the top
#                          of the tree, and passed when it exits 0.
# Each scenario run counts as one test. With --fuzz "SEED COUNT AVOID", then
#   usermm fuzz    COUNT random scenarios from SEED on, on both back ends:
#                  each that agrees counts as passed, each difference as failed.
# Ends with the line "N passed, M failed".
#
# Markers, on a line of their own in a scenario:
#   #! sim-only     uses sim-only commands: not run on the kernel back end
#   #! known-diff   the library disagrees with Linux here (listed for the lead):
#                   the sim run and the diff are skipped until it is fixed; the
#                   kernel run still checks the scenario's expectations
#   #! skip         not run at all
# A scenario whose config asks the kernel back end for a huge page pool the
# machine cannot give, or for capabilities the runner lacks (privileged=1:
# not root), counts as skipped (usermm exits 77), with the reason.
usermm=""
fuzz=""
if [ "$1" = "--usermm" ]; then
	usermm=$2
	shift 2
fi
if [ "$1" = "--fuzz" ]; then
	fuzz=$2
	shift 2
fi
passed=0
failed=0
skipped=0
failed_names=""
for t in "$@"; do
	out=$("$t" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		f=1	# crashed or failed outside a test case
	fi
	if [ "$f" != 0 ]; then
		printf '%s\n' "$out"
		failed_names="$failed_names $(basename "$t")"
	fi
	printf '%-32s %4d passed, %d failed\n' "$(basename "$t")" "$p" "$f"
	passed=$((passed + p))
	failed=$((failed + f))
done

# scenario_group LABEL MODE FILE...: MODE is sim, kernel or diff.
scenario_group() {
	label=$1
	mode=$2
	shift 2
	gp=0
	gf=0
	for s in "$@"; do
		[ -f "$s" ] || continue
		if grep -q '^#! skip' "$s"; then
			skipped=$((skipped + 1))
			continue
		fi
		if [ "$mode" != kernel ] && grep -q '^#! known-diff' "$s"; then
			skipped=$((skipped + 1))
			continue
		fi
		if [ "$mode" = kernel ] && grep -q '^#! sim-only' "$s"; then
			skipped=$((skipped + 1))
			continue
		fi
		case $mode in
		diff) out=$("$usermm" diff "$s" 2>&1) ;;
		*) out=$("$usermm" run --backend "$mode" "$s" 2>&1 >/dev/null) ;;
		esac
		rc=$?
		if [ $rc = 77 ]; then
			# The machine cannot give what the script's config asks (usermm(1)).
			printf '%s (%s): not run here: %s\n' "$s" "$mode" "$out"
			skipped=$((skipped + 1))
			continue
		fi
		if [ $rc = 0 ]; then
			gp=$((gp + 1))
		else
			gf=$((gf + 1))
			printf '%s (%s):\n%s\n' "$s" "$mode" "$out"
			failed_names="$failed_names $(basename "$s")($mode)"
		fi
	done
	printf '%-32s %4d passed, %d failed\n' "$label" "$gp" "$gf"
	passed=$((passed + gp))
	failed=$((failed + gf))
}

# tool_group FILE...: the shell tests of the usermm command.
tool_group() {
	gp=0
	gf=0
	for t in "$@"; do
		[ -f "$t" ] || continue
		out=$(sh "$t" "$usermm" 2>&1)
		if [ $? = 0 ]; then
			gp=$((gp + 1))
		else
			gf=$((gf + 1))
			printf '%s:\n%s\n' "$t" "$out"
			failed_names="$failed_names $(basename "$t")"
		fi
	done
	printf '%-32s %4d passed, %d failed\n' "tool tests" "$gp" "$gf"
	passed=$((passed + gp))
	failed=$((failed + gf))
}

# fuzz_group SEED COUNT AVOID: usermm fuzz from its summary "N scenarios, M differences".
fuzz_group() {
	out=$("$usermm" fuzz --seed "$1" --count "$2" --avoid "$3" 2>&1)
	rc=$?
	sum=$(printf '%s\n' "$out" | sed -n 's/^\([0-9]*\) scenarios, \([0-9]*\) differences$/\1 \2/p' |
		tail -n 1)
	n=${sum% *}
	d=${sum#* }
	if [ -z "$sum" ]; then
		n=0
		d=1	# did not get to its summary
	fi
	if [ "$rc" != 0 ] && [ "$d" = 0 ]; then
		d=1	# a bad generated script or a back end that could not start
	fi
	gp=$((n - d))
	[ "$gp" -lt 0 ] && gp=0
	if [ "$d" != 0 ]; then
		printf 'usermm fuzz --seed %s --count %s:\n%s\n' "$1" "$2" "$out"
		failed_names="$failed_names fuzz"
	fi
	printf '%-32s %4d passed, %d failed\n' "fuzz (seeds $1..$(($1 + $2 - 1)))" "$gp" "$d"
	passed=$((passed + gp))
	failed=$((failed + d))
}

if [ -n "$usermm" ]; then
	dir=$(dirname "$0")
	scenario_group "scenarios (sim)" sim "$dir"/scenarios/*.ums
	scenario_group "scenarios (kernel)" kernel "$dir"/scenarios/*.ums
	scenario_group "diff scenarios" diff "$dir"/diff/*.ums
	tool_group "$dir"/tool/*.sh
	[ "$skipped" != 0 ] && echo "skipped: $skipped scenario runs (#! markers, or a pool this machine cannot give)"
	if [ -n "$fuzz" ]; then
		# shellcheck disable=SC2086 # SEED COUNT AVOID: three words
		fuzz_group $fuzz
	fi
fi
[ -n "$failed_names" ] && echo "failing:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
