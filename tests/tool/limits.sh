# The tool's own limits (a byte string of at most 1 MiB, at most 2^20
# pages printed) are never answered with an errno, which would read as the
# call's: the run stops at that line with a message naming the limit, and
# usermm exits 1, on both back ends and in diff. Right at a limit a command
# runs. mincore runs on any range (tests/scenarios/mincore_huge_range.ums):
# only a vector too long to print stops the run.
. "$(dirname "$0")/lib/common.sh"

bytes="a byte string of 1048577 bytes, and the tool carries at most 1048576"
more="a byte string of more than 1048576 bytes, and the tool carries at most 1048576"
long=$(head -c 1048577 /dev/zero | tr '\0' x)

# stops NAME LINE WHAT WHY [BACKENDS]: a script whose line LINE (WHAT, as
# printed) stops the run for WHY; nothing after it runs.
stops() {
	for be in ${5:-sim kernel}; do
		run_usermm run --backend "$be" "$tmp/$1.ums"
		expect_rc 1 "$1 ($be)"
		expect_err "$1.ums:$2: $3: $4; the $be run stops here" "$1 ($be)"
		case $out in
		*"after the limit"*) fail "$1 ($be): the run went on past line $2" ;;
		esac
	done
}

# script NAME SETUP LINE: writes NAME.ums: SETUP lines, LINE, then an echo.
script() {
	printf '%s\n%s\necho after the limit\n' "$2" "$3" >"$tmp/$1.ums"
}

setup='file data 0x100001 120
proc p
p: fd = open data O_RDWR
p: a = mmap NULL 0x101000 rw- private|anon'
script load "$setup" 'p: load a 0x100001'
stops load 5 "p: load a 1048577" "$bytes"
script read "$setup" 'p: read fd 0x100001'
stops read 5 "p: read 0 1048577" "$bytes"
script pread "$setup" 'p: pread fd 0x100001 0'
stops pread 5 "p: pread 0 1048577 0" "$bytes"
script cat_part "$setup" 'cat data 0 0x100001'
stops cat_part 5 "p: cat data 0 1048577" "$bytes"
script cat_whole "$setup" 'cat data'
stops cat_whole 5 "p: cat data" "$more"
script disk_part "$setup" 'disk data 0 0x100001'
stops disk_part 5 "p: disk data 0 1048577" "$bytes" sim
script disk_whole "$setup" 'p: fsync fd
disk data'
stops disk_whole 6 "p: disk data" "$more" sim
script store "$setup" "p: store a \"$long\""
stops store 5 'p: store a "x"*1048577' "$bytes"
script write "$setup" "p: write fd \"$long\""
stops write 5 'p: write 0 "x"*1048577' "$bytes"
script pwrite "$setup" "p: pwrite fd \"$long\" 0"
stops pwrite 5 'p: pwrite 0 "x"*1048577 0' "$bytes"

pages="1048577 pages, and the tool prints at most 1048576"
setup='proc p
p: b = mmap NULL 0x100001000 r-- private|anon|noreserve'
script pagemap "$setup" 'p: pagemap b 0x100001000'
stops pagemap 3 "p: pagemap b 0x100001000" "$pages"
script pagemap_wrap "$setup" 'p: pagemap b -1'
stops pagemap_wrap 3 "p: pagemap b 0xffffffffffffffff" \
	"4503565268713482 pages, and the tool prints at most 1048576"
script mincore "$setup" 'p: mincore b 0x100001000'
stops mincore 3 "p: mincore b 0x100001000" "a vector of $pages"

# diff: both runs stop, and the script counts as failed.
run_usermm diff "$tmp/mincore.ums"
expect_rc 1 "diff"
expect_err "mincore.ums:3: p: mincore b 0x100001000: a vector of $pages; the sim run stops" "diff"
expect_err "mincore.ums:3: p: mincore b 0x100001000: a vector of $pages; the kernel run stops" \
	"diff"

# Right at the limits, commands run.
cat >"$tmp/at.ums" <<'UMS'
file data 0x100000 120
proc p
p: fd = open data O_RDONLY
p: a = mmap NULL 0x100000 rw- private|anon
p: load a 0x100000 => "\0"*1048576
p: pread fd 0x100000 0 => "x"*1048576
cat data => "x"*1048576
p: b = mmap NULL 0x100001000 r-- private|anon|noreserve
p: mincore b 0x100000000
UMS
for be in sim kernel; do
	run_usermm run --backend $be "$tmp/at.ums"
	expect_rc 0 "at the limits ($be)"
done
finish
