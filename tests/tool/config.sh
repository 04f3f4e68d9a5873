# A config line that fails stops the run at that line with a message
# naming the line and the reason, and usermm exits 1 (run, diff, shell);
# an unknown key is a bad script (exit 2) on both back ends. The kernel
# back end answers n/a to the sim's machine keys (swap among them: a swap
# file smaller than two pages is refused on sim).
. "$(dirname "$0")/lib/common.sh"

printf 'config swap=4K\nproc p\necho after config\n' >"$tmp/swap.ums"
run_usermm run --backend sim "$tmp/swap.ums"
expect_rc 1 "swap (sim)"
expect_err "swap.ums:1: config swap=4096: EINVAL: a swap file needs two pages (its header and a slot); the sim run stops here" \
	"swap (sim)"
case $out in
*"after config"*) fail "swap (sim): the run went on" ;;
esac
run_usermm diff "$tmp/swap.ums"
expect_rc 1 "swap (diff)"
expect_err "swap.ums:1: config swap=4096: EINVAL" "swap (diff)"
run_usermm run --backend kernel "$tmp/swap.ums"
expect_rc 0 "swap (kernel: n/a)"

# An expectation of the failure does not make the run go on.
printf 'config phys=64M swap=4K => EINVAL\nproc p\n' >"$tmp/swap_expected.ums"
run_usermm run --backend sim "$tmp/swap_expected.ums"
expect_rc 1 "swap => EINVAL (sim)"
expect_err "swap_expected.ums:1: config phys=67108864 swap=4096: EINVAL" "swap => EINVAL (sim)"

printf 'config swap=4K\n' | "$usermm" shell >"$tmp/out" 2>&1
rc=$?
err=$(cat "$tmp/out")
expect_rc 1 "swap (shell)"
expect_err "<shell>:1: config swap=4096: EINVAL" "swap (shell)"

# A configuration the library refuses as a whole stops the run at the first proc.
printf 'config page_size=3000\nproc p\necho after proc\n' >"$tmp/page.ums"
run_usermm run --backend sim "$tmp/page.ums"
expect_rc 1 "page_size=3000 (sim)"
expect_err "page.ums:2: proc p: cannot start the process: the machine the config lines ask for: Invalid argument; the sim run stops here" \
	"page_size=3000 (sim)"
run_usermm diff "$tmp/page.ums"
expect_rc 1 "page_size=3000 (diff)"
case $out in
*"after proc"*) fail "page_size=3000 (diff): compared though the sim run stopped" ;;
esac

printf 'config hugepage=4\nproc p\n' >"$tmp/typo.ums"
for be in sim kernel; do
	run_usermm run --backend $be "$tmp/typo.ums"
	expect_rc 2 "unknown key ($be)"
	expect_err "typo.ums:1:8: unknown config key 'hugepage' (keys: phys page_size" "unknown key ($be)"
done
run_usermm diff "$tmp/typo.ums"
expect_rc 2 "unknown key (diff)"

printf 'config phys=64M max_map_count=100 => ok\nproc p\n' >"$tmp/ok.ums"
run_usermm run --backend sim "$tmp/ok.ums"
expect_rc 0 "a config that holds (sim)"
finish
