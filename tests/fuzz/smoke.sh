#!/bin/sh
# A short run of each libFuzzer target (make check): any crash, sanitizer
# report or broken invariant fails it. Usage: smoke.sh SECONDS TARGET...
secs=$1
shift
for t in "$@"; do
	name=$(basename "$t")
	corpus=build/fuzz/corpus/$name
	mkdir -p "$corpus"
	log=build/fuzz/$name.smoke.log
	# Inputs that once found a bug run first, every time.
	for r in tests/fuzz/regressions/"$name"-*; do
		[ -f "$r" ] || continue
		"$t" "$r" >"$log" 2>&1 || { tail -n 40 "$log"; echo "fuzz $name: regression $r FAILED"; exit 1; }
	done
	# The parser starts from the real scenarios.
	seeds=""
	[ "$name" = fuzz_parser ] && seeds="tests/scenarios tests/diff"
	# shellcheck disable=SC2086
	"$t" -max_total_time="$secs" -max_len=4096 -print_final_stats=1 -artifact_prefix=build/fuzz/ \
		"$corpus" $seeds >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" != 0 ]; then
		tail -n 40 "$log"
		echo "fuzz $name: FAILED after ${runs:-?} runs (log: $log)"
		exit 1
	fi
	echo "fuzz $name: ${runs:-?} runs in ${secs}s, no crash"
done
