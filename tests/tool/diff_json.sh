# usermm diff --json: one JSON object per script, with both transcripts
# line by line and the first difference marked; a script not compared
# (a run stopped) says why. Exit statuses as without --json.
. "$(dirname "$0")/lib/common.sh"

# check WHAT PYTHON: runs PYTHON on the last run's output, one JSON object a
# line in the list objs; the check fails when it raises.
check() {
	printf '%s\n' "$out" >"$tmp/json"
	python3 - "$tmp/json" <<PY || fail "$1"
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
$2
PY
}

# The break starts at other addresses on the two back ends, and the
# kernel's maps leaves out its [heap]: lines 4 to 6 differ.
cat >"$tmp/differs.ums" <<'UMS'
config phys=64M
proc p
p: a = mmap NULL 1P rw- private|anon
p: b = brk 0
p: c = brk b+1P
p: maps
echo end
UMS
printf 'proc p\np: a = mmap NULL 1P rw- private|anon\np: maps\n' >"$tmp/same.ums"
printf 'config swap=4K\nproc p\n' >"$tmp/stops.ums"

run_usermm diff --json "$tmp/differs.ums"
expect_rc 1 "a difference"
printf '%s\n' "$out" | python3 -m json.tool >/dev/null || fail "not valid JSON: $out"
check "a difference" '
o = objs[0]
assert len(objs) == 1 and o["script"].endswith("differs.ums"), o
assert o["compared"] is True and o["same"] is False and o["first_difference"] == 4, o
ls = o["lines"]
assert [l["line"] for l in ls] == [2, 3, 4, 5, 6, 6, 6, 7], ls
assert [l["differs"] for l in ls] == [False, False, True, True, True, True, False, False], ls
assert ls[0]["sim"] == ls[0]["kernel"] == "proc p = ok", ls[0]
assert ls[2]["sim"].startswith("p: b = brk NULL = ") and ls[2]["kernel"].startswith("p: b = brk NULL = "), ls[2]
assert ls[4]["sim"] == "p: maps = 2 mappings" and ls[4]["kernel"] == "p: maps = 1 mapping", ls[4]
assert "kernel" not in ls[5] and ls[5]["sim"].endswith("[heap]"), ls[5]
assert not any("config" in l.get("sim", "") for l in ls), ls
'

run_usermm diff --json "$tmp/same.ums" "$tmp/stops.ums"
expect_rc 1 "a script that stops"
expect_err "stops.ums:1: config swap=4096: EINVAL" "a script that stops"
check "agreement, then a script that stops" '
assert len(objs) == 2, objs
s, t = objs
assert s["compared"] is True and s["same"] is True and s["first_difference"] is None, s
assert [l["differs"] for l in s["lines"]] == [False] * 4, s
assert t["compared"] is False and "lines" not in t, t
assert t["why"].endswith("config swap=4096: EINVAL: a swap file needs two pages (its header and a slot); the sim run stops here"), t
'

run_usermm diff --json "$tmp/same.ums"
expect_rc 0 "agreement"
finish
