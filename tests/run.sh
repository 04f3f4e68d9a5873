#!/bin/sh
# Runs every test program given, each of which reports cmocka results, and
# ends with the line "N passed, M failed" counting individual test cases.
passed=0
failed=0
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
[ -n "$failed_names" ] && echo "failing:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
