#!/bin/sh
# Installs, from Debian's packages, what building and testing need, when missing.
need=""
[ -f /usr/include/cmocka.h ] || need="$need libcmocka-dev"
[ -f /usr/include/histedit.h ] || need="$need libedit-dev"
command -v gcc >/dev/null 2>&1 || need="$need gcc"
command -v clang-14 >/dev/null 2>&1 || need="$need clang-14"
ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
	need="$need libclang-rt-14-dev"
command -v make >/dev/null 2>&1 || need="$need make"
if [ -n "$need" ]; then
	echo "deps: installing$need"
	if [ "$(id -u)" != 0 ]; then
		echo "deps: need root to install:$need" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null && apt-get install -y -qq $need >/dev/null || {
		echo "deps: apt-get install$need failed" >&2
		exit 1
	}
fi
exit 0
