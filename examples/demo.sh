#!/bin/sh
# make demo: the seed programs, run on usermm.
set -e
cd "$(dirname "$0")/.."
echo "== anon_fork: a shared anonymous mapping across fork (TLPI ch. 49, seed 002) =="
echo "\$ build/examples/anon_fork"
build/examples/anon_fork
