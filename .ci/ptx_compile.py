"""Compile every kernel signature recorded by ``ptx_signatures.py`` to PTX for sm_90, without a GPU (Numba asks
the current device for its compute capability; a stand-in answers 9.0). Usage: python .ci/ptx_compile.py kernels/cuda

The kernel modules are imported as a stand-alone package from the given folder, so no CUDA driver is needed."""
import glob
import importlib
import json
import os
import sys
import types as T

from numba import cuda, types
import numba.cuda.dispatcher as D


class _Dev:
    compute_capability = (9, 0)


D.get_current_device = lambda: _Dev()
root = os.path.abspath(sys.argv[1])  # kernels/cuda
top = T.ModuleType("kp")
top.__path__ = [os.path.dirname(root)]
sys.modules["kp"] = top
pkg = T.ModuleType("kp.cuda")
pkg.__path__ = [root]
sys.modules["kp.cuda"] = pkg

recs = set()
for f in glob.glob("/tmp/ptxrec_*.json"):
    recs.update(json.load(open(f)))
ok = bad = skipped = 0
seen_mods = set()
for r in sorted(recs):
    mod, name, sig = json.loads(r)
    if ".cuda." not in mod:
        skipped += 1
        continue
    short = mod.rsplit(".", 1)[1]
    try:
        M = importlib.import_module("kp.cuda." + short)
    except Exception as e:
        print("IMPORT FAIL", short, e)
        bad += 1
        continue
    argtys = []
    unknown = False
    for t in sig:
        if t[0] == "A":
            dt = types.boolean if t[1] == "bool" else getattr(types, t[1])
            argtys.append(types.Array(dt, t[2], t[3]))
        elif t[0] == "S":
            argtys.append(types.boolean if t[1] == "bool" else getattr(types, t[1]))
        elif t[0] == "T":
            argtys.append(types.UniTuple(types.int64, t[2]))
        else:
            unknown = True
    if unknown:
        skipped += 1
        continue
    k = getattr(M, name, None)
    if k is None or not hasattr(k, "py_func"):
        skipped += 1
        continue
    try:
        cuda.compile_ptx(k.py_func, tuple(argtys), cc=(9, 0))
        ok += 1
        seen_mods.add(short)
    except Exception as e:
        bad += 1
        print("FAIL", short, name, sig, "\n   ", str(e).splitlines()[0][:300])
print(f"compiled {ok}, failed {bad}, skipped {skipped}; modules: {sorted(seen_mods)}")
sys.exit(1 if bad else 0)
