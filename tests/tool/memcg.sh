# config phys=N on the kernel back end (issue 14, item 8): the drivers run
# in a memory cgroup usermm-PID made under the runner's own, limited to N
# with no swap on top, which holds them while the run goes on and is gone
# after it, also after a failed run. Passes (skipping) where no memory
# cgroup controller is usable: config memcg=1 then stops the run (77).
. "$(dirname "$0")/lib/common.sh"

printf 'config phys=16M memcg=1\nproc p\n' >"$tmp/probe.ums"
run_usermm run --backend kernel "$tmp/probe.ums"
if [ "$rc" = 77 ]; then
	expect_err "config memcg: the kernel back end cannot run this here: no memory cgroup" \
		"memcg=1 without a controller"
	echo "no memory cgroup controller here: $err"
	finish
fi
expect_rc 0 "config phys=16M memcg=1 (kernel)"

# The cgroup of usermm process $1, or nothing.
cgroup_of() {
	find /sys/fs/cgroup -maxdepth 8 -type d -name "usermm-$1" 2>/dev/null | head -n 1
}

# wait_line LINE: until the session's output has LINE (10 s at most).
wait_line() {
	n=0
	until grep -qx "$1" "$tmp/out" || [ $n -ge 200 ]; do
		sleep 0.05
		n=$((n + 1))
	done
}

# While a shell session runs: made, limited, holding the driver; reclaim
# keeps the driver's usage within the limit while it reads 32M of file.
mkfifo "$tmp/in"
"$usermm" shell --backend kernel <"$tmp/in" >"$tmp/out" 2>&1 &
pid=$!
exec 3>"$tmp/in"
printf 'config phys=16M\nfile f 32M 0x41\nproc p\np: fd = open f O_RDONLY\n' >&3
i=0
while [ $i -lt 32 ]; do
	printf 'p: pread fd 1M %d\n' $((i * 1048576)) >&3
	i=$((i + 1))
done
printf 'echo read\n' >&3
wait_line read
grep -q '"A"\*1048576' "$tmp/out" || fail "the session's reads: $(cat "$tmp/out")"
d=$(cgroup_of $pid)
if [ -z "$d" ]; then
	fail "no cgroup usermm-$pid during the run"
else
	if [ -f "$d/memory.limit_in_bytes" ]; then
		[ "$(cat "$d/memory.limit_in_bytes")" = 16777216 ] ||
			fail "memory.limit_in_bytes is $(cat "$d/memory.limit_in_bytes")"
		if [ -f "$d/memory.memsw.limit_in_bytes" ]; then
			[ "$(cat "$d/memory.memsw.limit_in_bytes")" = 16777216 ] ||
				fail "memory.memsw.limit_in_bytes is $(cat "$d/memory.memsw.limit_in_bytes")"
		fi
		peak=$(cat "$d/memory.max_usage_in_bytes")
	else
		[ "$(cat "$d/memory.max")" = 16777216 ] || fail "memory.max is $(cat "$d/memory.max")"
		[ ! -f "$d/memory.swap.max" ] || [ "$(cat "$d/memory.swap.max")" = 0 ] ||
			fail "memory.swap.max is $(cat "$d/memory.swap.max")"
		peak=$(cat "$d/memory.peak" 2>/dev/null || echo 16777216)
	fi
	[ -n "$(cat "$d/cgroup.procs")" ] || fail "no driver in $d"
	# The driver read 32M of a file: charged to it, not to the runner,
	# which dropped what its file command wrote from the cache.
	[ "$peak" -gt 8388608 ] && [ "$peak" -le 16777216 ] ||
		fail "the cgroup's peak usage is $peak, not within (8M, 16M]"
fi
exec 3>&-
wait $pid
[ -z "$(cgroup_of $pid)" ] || fail "usermm-$pid left after the session"

# A failed run (a driver OOM-killed, the expectations after it failing) leaves none.
printf 'config phys=16M\nproc p\np: a = mmap NULL 64M rw- private|anon\np: fill a 64M 1 => ok\np: load8 a => 1\n' \
	>"$tmp/oom.ums"
"$usermm" run --backend kernel "$tmp/oom.ums" >"$tmp/out" 2>"$tmp/err" &
pid=$!
wait $pid
rc=$?
expect_rc 1 "a driver past the limit (kernel)"
grep -q "process died" "$tmp/out" || fail "the driver was not killed past the limit: $(cat "$tmp/out")"
[ -z "$(cgroup_of $pid)" ] || fail "usermm-$pid left after a failed run"

# Without config phys, no cgroup: the driver is in the runner's.
"$usermm" shell --backend kernel <"$tmp/in" >"$tmp/out" 2>&1 &
pid=$!
exec 3>"$tmp/in"
printf 'proc p\necho up\n' >&3
wait_line up
[ -z "$(cgroup_of $pid)" ] || fail "a cgroup without config phys"
exec 3>&-
wait $pid
finish
