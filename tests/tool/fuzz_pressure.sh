# usermm fuzz --pressure: a small config phys, a file larger than it read
# through a mapping, and the commands of memory pressure and limits, drawn
# from a random stream of their own: without those lines each scenario is
# the one its seed gives without --pressure, line for line, so every seed
# of earlier runs still means the same scenario. A short run compares
# both back ends, residency lines left out (root only: the kernel back end
# reads frame numbers).
. "$(dirname "$0")/lib/common.sh"

pressure_lines='^config phys=|: (reclaim|oom_score_adj|getrlimit|setrlimit|setuid|setgid|setresuid|umask)( |$)|: (touch|load64) Z|: file zf |: zd = open|: Z = mmap|: close zd'
for seed in 1 2 3 17 100 2024; do
	run_usermm fuzz --seed $seed --print
	expect_rc 0 "fuzz --seed $seed --print"
	printf '%s\n' "$out" >"$tmp/plain"
	run_usermm fuzz --seed $seed --print --pressure
	expect_rc 0 "fuzz --seed $seed --print --pressure"
	printf '%s\n' "$out" >"$tmp/pressure"
	grep -q '^config phys=' "$tmp/pressure" || fail "seed $seed --pressure: no config phys"
	grep -q ': Z = mmap NULL ' "$tmp/pressure" || fail "seed $seed --pressure: no Z mapping"
	grep -Ev "$pressure_lines" "$tmp/pressure" | sed 's/ --pressure --print$/ --print/' \
		>"$tmp/stripped"
	cmp -s "$tmp/plain" "$tmp/stripped" ||
		fail "seed $seed: --pressure changed the scenario's other lines: $(diff "$tmp/plain" "$tmp/stripped" | head -n 5)"
done

# Over a few seeds every kind of pressure command shows up.
: >"$tmp/all"
for seed in $(seq 1 40); do
	"$usermm" fuzz --seed "$seed" --print --pressure >>"$tmp/all"
done
for cmd in ': touch Z' ': load64 Z' ': reclaim ' ': oom_score_adj' 'etrlimit RLIMIT_MEMLOCK' \
	': setuid ' ': umask '; do
	grep -q "$cmd" "$tmp/all" || fail "40 --pressure seeds and no '$cmd'"
done
grep -E '^config phys=' "$tmp/all" | grep -qv -E '^config phys=(1[2-9]|2[0-9]|3[0-2])M$' &&
	fail "a config phys outside 12M-32M: $(grep '^config phys=' "$tmp/all" | sort -u | tr '\n' ' ')"

# --avoid pressure-anon: no anonymous memory that Linux's reclaim may drop.
: >"$tmp/avoided"
for seed in $(seq 1 300); do
	"$usermm" fuzz --seed "$seed" --print --pressure --avoid pressure-anon >>"$tmp/avoided"
done
grep -q -E 'MAP_DROPPABLE|MADV_FREE' "$tmp/avoided" &&
	fail "--pressure --avoid pressure-anon still maps MAP_DROPPABLE or advises MADV_FREE"
: >"$tmp/kept"
for seed in $(seq 1 300); do
	"$usermm" fuzz --seed "$seed" --print --pressure >>"$tmp/kept"
done
grep -q 'MAP_DROPPABLE' "$tmp/kept" || fail "300 --pressure seeds and no MAP_DROPPABLE"

if [ "$(id -u)" = 0 ]; then
	run_usermm fuzz --seed 1 --count 5 --pressure --out "$tmp/found"
	expect_rc 0 "fuzz --seed 1 --count 5 --pressure"
	case $out in
	*"5 scenarios, 0 differences"*) ;;
	*) fail "fuzz --pressure, 5 scenarios: $out" ;;
	esac
fi
finish
