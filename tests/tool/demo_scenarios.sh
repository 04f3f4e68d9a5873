# The demo's scenarios (examples/scenarios/*.ums, which make demo plays):
# their expectations (=>) hold on sim, and usermm diff finds both back ends
# agreeing where the kernel back end can run (root), but for the sim-only
# ones. 08_big_file_64m reads a 1 GiB file through config phys=64M, and
# 09_anon_512m_64m writes and checks 512 MiB of anonymous memory through
# 64 MiB and swap: reclaim must give back exact bytes.
. "$(dirname "$0")/lib/common.sh"

n=0
for s in examples/scenarios/*.ums; do
	n=$((n + 1))
	run_usermm run "$s"
	expect_rc 0 "usermm run $s"
	expect_no_err "expected" "usermm run $s"
	if [ "$(id -u)" = 0 ] && ! grep -q '^#! sim-only' "$s"; then
		run_usermm diff "$s"
		expect_rc 0 "usermm diff $s"
	fi
done
[ "$n" -ge 8 ] || fail "only $n demo scenarios under examples/scenarios"
[ -f examples/scenarios/08_big_file_64m.ums ] || fail "no big-file demo scenario"
[ -f examples/scenarios/09_anon_512m_64m.ums ] || fail "no 512 MiB swap demo scenario"
finish
