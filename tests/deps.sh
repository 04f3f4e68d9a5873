#!/bin/sh
# Installs, from Debian's packages, what building (deps.sh build) or building
# and testing (deps.sh, deps.sh test) need, when missing. Without root it names
# the missing packages and fails.
what=${1:-test}
need=""
command -v gcc >/dev/null 2>&1 || need="$need gcc"
command -v make >/dev/null 2>&1 || need="$need make"
[ -f /usr/include/histedit.h ] || need="$need libedit-dev"
if [ "$what" = test ]; then
	[ -f /usr/include/cmocka.h ] || need="$need libcmocka-dev"
	command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
	command -v clang-14 >/dev/null 2>&1 || need="$need clang-14"
	ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
		need="$need libclang-rt-14-dev"
	# tests/tool/diff_json.sh reads usermm's JSON with it.
	command -v python3 >/dev/null 2>&1 || need="$need python3"
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing Debian packages:$need" >&2
	echo "deps: as root, run: apt-get install$need" >&2
	exit 1
fi
echo "deps: installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq $need >/dev/null || {
	echo "deps: apt-get install$need failed" >&2
	exit 1
}
exit 0
