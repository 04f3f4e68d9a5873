#!/bin/sh
# The library's layers (docs/architecture.md, "Layers"): every call from one
# src/ file to a function of another goes to a file of the same layer or a
# lower one, read from the objects' symbol tables (build/obj, made by make).
# A file missing from the table, or a call up, fails the test.
cd "$(dirname "$0")/../.." || exit 1
python3 - <<'PY'
import glob, os, subprocess, sys

# Bottom to top; a file may call its own layer and those below.
layers = [
    ["alloc", "host"],
    ["frame", "lru", "pagetable", "tlb"],
    ["cred", "resource", "commit"],
    ["vma", "rmap", "mm", "swapfile"],
    ["pagecache", "writeback", "vmscan", "oom_kill", "inode", "fdtable"],
    ["hugetlb", "guard", "truncate"],
    ["vma_ops"],
    ["fault"],
    ["access", "gup"],
    ["mmap", "mprotect", "mremap", "mlock", "madvise", "msync", "mincore", "brk",
     "file", "namei", "attr", "process"],
    ["procfs", "system"],
]
layer = {f: i for i, fs in enumerate(layers) for f in fs}
objs = sorted(glob.glob("build/obj/*.o"))
if not objs:
    sys.exit("layers: no objects in build/obj (run make first)")
defs, uses, bad = {}, {}, []
for o in objs:
    name = os.path.basename(o)[:-2]
    if name not in layer:
        bad.append(f"{name}.c is in no layer")
    uses[name] = set()
    out = subprocess.run(["nm", o], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        p = line.split()
        if len(p) == 3 and p[1] in "TDBR":
            defs[p[2]] = name
        elif len(p) == 2 and p[0] == "U":
            uses[name].add(p[1])
for f, syms in sorted(uses.items()):
    for s in sorted(syms):
        t = defs.get(s)
        if t and t != f and f in layer and t in layer and layer[t] > layer[f]:
            bad.append(f"{f}.c (layer {layer[f]}) calls {s} of {t}.c (layer {layer[t]})")
for b in bad:
    print("layers:", b)
sys.exit(1 if bad else 0)
PY
