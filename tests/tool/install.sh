#!/bin/sh
# make install, then a program built with pkg-config runs against the shared
# library: at once where the prefix is in the dynamic linker's path (install
# runs ldconfig), and with LD_LIBRARY_PATH, as install says, where it is not.
# Usage: sh tests/tool/install.sh (from the top of the tree, after make); it
# prints "install: N passed, M failed" and exits 0 when nothing failed.
tmp=$(mktemp -d /tmp/usermm-install.XXXXXX)
conf=/etc/ld.so.conf.d/zz-usermm-test-$$.conf
cleanup() {
	rm -f "$conf"
	[ "$(id -u)" = 0 ] && ldconfig
	rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { echo "install: FAILED: $*"; failed=$((failed + 1)); }

cat >"$tmp/prog.c" <<'C'
#include <stdio.h>
#include <usermm.h>
int main(void)
{
	struct um_config cfg;
	struct um_system *sys;
	um_config_init(&cfg);
	if (um_system_new(&cfg, &sys))
		return 1;
	um_system_free(sys);
	puts("linked");
	return 0;
}
C
build() {	# build PREFIX: the program, built as the README says
	PKG_CONFIG_PATH=$1/lib/pkgconfig cc -o "$tmp/prog" "$tmp/prog.c" \
		$(PKG_CONFIG_PATH=$1/lib/pkgconfig pkg-config --cflags --libs usermm)
}

# A prefix outside the linker's path: install says what to do; the program
# needs LD_LIBRARY_PATH, and runs with it.
out=$(make -s install PREFIX="$tmp/away" 2>&1)
case $out in
*"LD_LIBRARY_PATH=$tmp/away/lib"*) ok ;;
*) bad "install into a prefix outside ld.so.conf did not say what to do: $out" ;;
esac
if build "$tmp/away"; then
	if "$tmp/prog" >/dev/null 2>&1; then
		bad "the program found libusermm.so.0 outside the linker's path"
	else
		ok
	fi
	[ "$(LD_LIBRARY_PATH=$tmp/away/lib "$tmp/prog")" = linked ] && ok ||
		bad "the program did not run with LD_LIBRARY_PATH"
else
	bad "pkg-config build against $tmp/away"
fi

# A prefix in the linker's path (root only: it writes ld.so.conf.d): install
# runs ldconfig, and the program runs as it is.
if [ "$(id -u)" = 0 ]; then
	echo "$tmp/near/lib" >"$conf"
	ldconfig
	make -s install PREFIX="$tmp/near" >/dev/null 2>&1 || bad "make install PREFIX=$tmp/near"
	if build "$tmp/near"; then
		[ "$("$tmp/prog" 2>&1)" = linked ] && ok ||
			bad "the program did not find libusermm.so.0 after install into the linker's path"
	else
		bad "pkg-config build against $tmp/near"
	fi
fi
echo "install: $passed passed, $failed failed"
[ "$failed" = 0 ]
