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
