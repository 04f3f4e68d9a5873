# An expectation's byte string is compared by its bytes, not its spelling:
# the same bytes spelled otherwise hold, other bytes fail (and a byte
# string that only begins the result's is other bytes).
. "$(dirname "$0")/lib/common.sh"

cat >"$tmp/same.ums" <<'UMS'
file data 4 "\x78\x56\x34\x12"
proc p
p: fd = open data O_RDONLY
p: pread fd 4 0 => "\x78\x56\x34\x12"
p: pread fd 4 0 => "xV" "\64\x12"
UMS
for be in sim kernel; do
	run_usermm run --backend $be "$tmp/same.ums"
	expect_rc 0 "same bytes, other spelling ($be)"
done

cat >"$tmp/other.ums" <<'UMS'
file data 100 65
proc p
p: fd = open data O_RDONLY
p: pread fd 4 0 => "\x78\x56\x34\x12"
p: pread fd 3 0 => "AA"
p: a = mmap NULL 1P rw- private|anon
p: fill a 100 65
p: load a 101 => "A"*100
UMS
for be in sim kernel; do
	run_usermm run --backend $be "$tmp/other.ums"
	expect_rc 1 "other bytes ($be)"
	expect_err 'other.ums:4: expected "\x78\x56\x34\x12", got "AAAA"' "other bytes ($be)"
	expect_err 'other.ums:5: expected "AA", got "AAA"' "a longer result ($be)"
	expect_err 'other.ums:8: expected "A"*100, got "A"*100 "\0"' "a longer result ($be)"
done
finish
