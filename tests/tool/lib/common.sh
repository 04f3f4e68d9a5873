# Helpers for the tool tests, tests/tool/*.sh, which tests/run.sh runs as
# `sh TEST USERMM`: a test writes its scenarios in a temporary directory,
# runs usermm on them and checks exit statuses, messages and output. A
# test passes when it exits 0; each failed check prints a FAIL line.

usermm=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# fail WHAT: one failed check.
fail() {
	printf 'FAIL: %s\n' "$*"
	fails=$((fails + 1))
}

# run_usermm ARGS...: runs usermm; sets rc, out (its stdout) and err (its stderr).
run_usermm() {
	"$usermm" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
}

# expect_rc N WHAT: the last run exited with status N.
expect_rc() {
	[ "$rc" = "$1" ] || fail "$2: exit status $rc, not $1; stderr: $err"
}

# expect_err TEXT WHAT: the last run's stderr holds TEXT.
expect_err() {
	case $err in
	*"$1"*) ;;
	*) fail "$2: stderr lacks '$1'; it is: $err" ;;
	esac
}

# expect_no_err TEXT WHAT: the last run's stderr does not hold TEXT.
expect_no_err() {
	case $err in
	*"$1"*) fail "$2: stderr holds '$1': $err" ;;
	esac
}

# finish: ends the test, failed when any check failed.
finish() {
	[ "$fails" = 0 ] && exit 0
	exit 1
}
