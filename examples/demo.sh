#!/bin/sh
# make demo: the seed programs of 002_61f4df198996beed.txt, run on usermm.
set -e
cd "$(dirname "$0")/.."
echo "== 1. mmap as cat: a private read-only file mapping (examples/mmap_cat.c) =="
build/examples/mmap_cat
echo
echo "== 2. a shared file mapping and msync, three processes in turn (examples/shared_file.c) =="
build/examples/shared_file
echo
echo "== 3. a shared anonymous mapping across fork (examples/anon_fork.c) =="
echo "\$ ./a.out"
build/examples/anon_fork

# The same stories and more, as scenarios (examples/scenarios/*.ums), played
# on usermm; then usermm diff plays each on Linux too and compares.
echo
echo "== 4. the seed scenarios on usermm: usermm run examples/scenarios/*.ums =="
for f in examples/scenarios/*.ums; do
	echo
	echo "\$ usermm run $f"
	build/usermm run "$f"
done
echo
echo "== 5. the same scenarios on the Linux kernel: usermm diff (silent when they agree) =="
if [ "$(id -u)" != 0 ]; then
	echo "(skipped: the kernel back end reads frame numbers from /proc/PID/pagemap, which needs root)"
	exit 0
fi
# A sim-only scenario (#! sim-only: swap the kernel back end cannot add) is not compared.
both=$(grep -L '^#! sim-only' examples/scenarios/*.ums)
echo "\$ usermm diff" $both
if build/usermm diff $both; then
	echo "usermm and Linux print the same transcript for all $(echo "$both" | wc -w) scenarios that run on both."
else
	echo "usermm and Linux differ (above)."
	exit 1
fi
