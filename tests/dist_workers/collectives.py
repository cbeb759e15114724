"""Worker run by tests/test_distributed.py on N ranks: every collective and dtype against a NumPy reference that each
rank computes from every rank's inputs (drawn from per-rank seeds), plus async Work, objects and the errors.

Prints "CHECKS OK <rank> <count>" when everything matched; raises (non-zero exit) at the first mismatch.
"""
import datetime
import sys
import time

import ml_dtypes
import numpy as np

import minitorch as torch
import minitorch.distributed as dist

NP = {"float32": np.float32, "float64": np.float64, "float16": np.float16, "bfloat16": ml_dtypes.bfloat16,
      "int32": np.int32, "int64": np.int64, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_}
FLOATS = ("float32", "float64", "float16", "bfloat16")
checks = [0]


def inputs(seed, shape, name):
    """Rank-independent draw: every rank can make any rank's input."""
    rng = np.random.default_rng(seed)
    if name == "bool":
        return rng.random(shape) < 0.5
    if name in FLOATS:
        return rng.uniform(0.5, 2.0, shape).astype(NP[name])
    return rng.integers(1, 5, shape).astype(NP[name])


def as_tensor(arr, name):
    return torch.tensor(arr.astype(np.float32) if name in ("float16", "bfloat16") else arr, dtype=getattr(torch, name))


def check(got, want, what):
    got_np = got.numpy()
    want = np.asarray(want)
    if want.dtype in (np.float16, ml_dtypes.bfloat16):
        got_np, want = got_np.astype(np.float32), want.astype(np.float32)
    if got_np.shape != want.shape or not np.allclose(got_np, want, rtol=1e-6, atol=0, equal_nan=True):
        raise AssertionError(f"rank {rank}: {what}: got {got_np.ravel()[:8]} want {want.ravel()[:8]}")
    checks[0] += 1


def reference(arrs, op, name):
    """The reduction as the engine defines it: pairwise in rank order; 16-bit floats through float32 each step."""
    half = name in ("float16", "bfloat16")
    out = arrs[0]
    for a in arrs[1:]:
        x, y = (out.astype(np.float32), a.astype(np.float32)) if half else (out, a)
        if name == "bool":
            r = {"SUM": x | y, "MAX": x | y, "PRODUCT": x & y, "MIN": x & y, "BAND": x & y, "BOR": x | y,
                 "BXOR": x ^ y}[op]
        else:
            r = {"SUM": lambda: x + y, "AVG": lambda: x + y, "PRODUCT": lambda: x * y,
                 "MIN": lambda: np.minimum(x, y), "MAX": lambda: np.maximum(x, y), "BAND": lambda: x & y,
                 "BOR": lambda: x | y, "BXOR": lambda: x ^ y}[op]()
        out = r.astype(NP[name])
    if op == "AVG":
        out = (out.astype(np.float32) / len(arrs)).astype(NP[name]) if half else (out / len(arrs)).astype(NP[name])
    return out


dist.init_process_group(backend=sys.argv[1] if len(sys.argv) > 1 else "gloo")
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == (sys.argv[1] if len(sys.argv) > 1 else "gloo")

# ---- all_reduce: every dtype and op, in place, contiguous and not ----------------------------------------------
for k, name in enumerate(NP):
    ops = ["SUM", "PRODUCT", "MIN", "MAX"] + (["AVG"] if name in FLOATS else ["BAND", "BOR", "BXOR"])
    for j, op in enumerate(ops):
        seeds = [1000 * k + 10 * j + r for r in range(world)]
        t = as_tensor(inputs(seeds[rank], (3, 5), name), name)
        dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
        check(t, reference([inputs(s, (3, 5), name) for s in seeds], op, name), f"all_reduce {name} {op}")

base = torch.tensor(inputs(7 + rank, (4, 6), "float32"))
view = base.t()[1:5]  # non-contiguous, offset view
dist.all_reduce(view)
want_full = sum(inputs(7 + r, (4, 6), "float32") for r in range(world))
check(view, want_full.T[1:5], "all_reduce of a transposed view")
check(base[:, 0], inputs(7 + rank, (4, 6), "float32")[:, 0], "elements outside the view unchanged")

# ---- async Work ---------------------------------------------------------------------------------------------------
ts = [torch.full((1000,), float(rank + i)) for i in range(4)]
works = [dist.all_reduce(t, async_op=True) for t in ts]
for i, (w, t) in enumerate(zip(works, ts)):
    assert w.wait() is True and w.is_completed() and w.is_success()
    check(t, np.full(1000, sum(r + i for r in range(world)), np.float32), f"async all_reduce {i}")
assert works[0].result()[0] is ts[0]
# async_op returns at once, before the peers have arrived: rank 0 is free while rank 1 still sleeps
if rank != 0:
    time.sleep(0.5)
t = torch.ones(10) * (rank + 1)
w = dist.all_reduce(t, async_op=True)
if rank == 0:
    assert not w.is_completed()
w.wait()
check(t, np.full(10, world * (world + 1) / 2, np.float32), "async all_reduce with a late peer")

# ---- broadcast, reduce ------------------------------------------------------------------------------------------
for name in ("float32", "bfloat16", "int64", "bool"):
    src = world - 1
    t = as_tensor(inputs(50 + rank, (7,), name), name)
    w = dist.broadcast(t, src=src, async_op=True)
    w.wait()
    check(t, inputs(50 + src, (7,), name), f"broadcast {name}")
    t = as_tensor(inputs(60 + rank, (2, 3), name), name)
    dist.reduce(t, dst=0, op=dist.ReduceOp.MAX)
    want = reference([inputs(60 + r, (2, 3), name) for r in range(world)], "MAX", name) if rank == 0 else \
        inputs(60 + rank, (2, 3), name)
    check(t, want, f"reduce {name}")

# ---- gathers and scatters ------------------------------------------------------------------------------------
for name in ("float64", "float16", "int8"):
    mine = inputs(70 + rank, (2, 3), name)
    every = [inputs(70 + r, (2, 3), name) for r in range(world)]
    outs = [as_tensor(np.zeros((2, 3), NP[name]), name) for _ in range(world)]
    dist.all_gather(outs, as_tensor(mine, name))
    for r in range(world):
        check(outs[r], every[r], f"all_gather {name} [{r}]")
    big = as_tensor(np.zeros((2 * world, 3), NP[name]), name)
    dist.all_gather_into_tensor(big, as_tensor(mine, name))
    check(big, np.concatenate(every), f"all_gather_into_tensor {name}")

    chunks = [inputs(80 + 10 * r + c, (4,), name) for r in range(world) for c in range(world)]  # rank r, chunk c
    out = as_tensor(np.zeros(4, NP[name]), name)
    dist.reduce_scatter(out, [as_tensor(chunks[rank * world + c], name) for c in range(world)])
    check(out, reference([chunks[r * world + rank] for r in range(world)], "SUM", name), f"reduce_scatter {name}")
    out = as_tensor(np.zeros(4, NP[name]), name)
    dist.reduce_scatter_tensor(out, as_tensor(np.concatenate(chunks[rank * world:(rank + 1) * world]), name))
    check(out, reference([chunks[r * world + rank] for r in range(world)], "SUM", name),
          f"reduce_scatter_tensor {name}")

    gl = [as_tensor(np.zeros((2, 3), NP[name]), name) for _ in range(world)] if rank == 1 else None
    dist.gather(as_tensor(mine, name), gl, dst=1)
    if rank == 1:
        for r in range(world):
            check(gl[r], every[r], f"gather {name} [{r}]")
    out = as_tensor(np.zeros((2, 3), NP[name]), name)
    dist.scatter(out, [as_tensor(e + 1 if name != "bool" else e, name) for e in every] if rank == 0 else None,
                 src=0)
    check(out, every[rank] + 1, f"scatter {name}")

# all_to_all with sizes that differ per pair: rank i sends i + j + 1 elements to rank j
send = [torch.arange(rank + j + 1, dtype=torch.int32) + 100 * rank for j in range(world)]
recv = [torch.zeros(j + rank + 1, dtype=torch.int32) for j in range(world)]
dist.all_to_all(recv, send)
for j in range(world):
    check(recv[j], np.arange(j + rank + 1, dtype=np.int32) + 100 * j, f"all_to_all [{j}]")
# all_to_all_single, even and uneven splits (rank i sends j + 1 rows to rank j)
x = torch.arange(world * 2 * 3, dtype=torch.float32).reshape(world * 2, 3) + 1000 * rank
y = torch.zeros(world * 2, 3)
dist.all_to_all_single(y, x)
want = np.concatenate([(np.arange(world * 6, dtype=np.float32).reshape(world * 2, 3) + 1000 * j)[2 * rank:2 * rank + 2]
                       for j in range(world)])
check(y, want, "all_to_all_single")
rows_in = [j + 1 for j in range(world)]
x = torch.arange(sum(rows_in) * 2, dtype=torch.int64).reshape(-1, 2) + 1000 * rank
y = torch.zeros((rank + 1) * world, 2, dtype=torch.int64)
dist.all_to_all_single(y, x, output_split_sizes=[rank + 1] * world, input_split_sizes=rows_in)
start = sum(rows_in[:rank])
want = np.concatenate([(np.arange(sum(rows_in) * 2).reshape(-1, 2) + 1000 * j)[start:start + rank + 1]
                       for j in range(world)])
check(y, want, "all_to_all_single uneven")

# ---- point to point -------------------------------------------------------------------------------------------
if rank == 0:
    dist.send(torch.arange(5, dtype=torch.float64), dst=1, tag=3)
    w = dist.irecv(t := torch.zeros(4, dtype=torch.int16), src=1)
    w.wait()
    check(t, np.arange(4, dtype=np.int16) * 2, "irecv")
elif rank == 1:
    t = torch.zeros(5, dtype=torch.float64)
    assert dist.recv(t, tag=3) == 0  # from any source: the sender's rank comes back
    check(t, np.arange(5, dtype=np.float64), "recv")
    w = dist.isend(torch.arange(4, dtype=torch.int16) * 2, dst=0)
    w.wait()
    assert w.is_completed()

# a ring exchange in one batch: every rank sends to the next and receives from the previous
right, left = (rank + 1) % world, (rank - 1) % world
got = torch.zeros(3, dtype=torch.int64)
works = dist.batch_isend_irecv([dist.P2POp(dist.isend, torch.arange(3) + 10 * rank, right),
                                dist.P2POp(dist.irecv, got, left)])
for w in works:
    w.wait()
check(got, np.arange(3) + 10 * left, "batch_isend_irecv ring")
if rank == 0:
    dist.send_object_list([{"from": 0}, "two", 3], dst=1)
elif rank == 1:
    objs = [None, None, None]
    assert dist.recv_object_list(objs) == 0 and objs == [{"from": 0}, "two", 3], objs
    checks[0] += 1

# ---- subgroups ---------------------------------------------------------------------------------------------------
g = dist.new_group([0, 1])
if rank in (0, 1):
    assert dist.get_world_size(g) == 2 and dist.get_rank(g) == rank
    t = torch.ones(3) * (rank + 1)
    dist.all_reduce(t, group=g)
    check(t, np.full(3, 3.0, np.float32), "all_reduce on a subgroup")
else:
    assert g is dist.GroupMember.NON_GROUP_MEMBER and dist.get_rank(g) == -1
dist.barrier()

# ---- objects (minitorch.save's format, no pickle) ---------------------------------------------------------------
obj = {"rank": rank, "name": f"r{rank}", "t": torch.arange(3) * rank, "nested": [1.5, None, (rank, "x")]}
got = [None] * world
dist.all_gather_object(got, obj)
for r in range(world):
    assert got[r]["rank"] == r and got[r]["name"] == f"r{r}" and got[r]["nested"] == [1.5, None, (r, "x")], got[r]
    check(got[r]["t"], np.arange(3) * r, f"all_gather_object tensor [{r}]")
lst = [rank, {"a": rank}, None] if rank == 1 else [None, None, None]
dist.broadcast_object_list(lst, src=1)
assert lst == [1, {"a": 1}, None], lst
gl = [None] * world if rank == 0 else None
dist.gather_object({"r": rank}, gl, dst=0)
if rank == 0:
    assert gl == [{"r": r} for r in range(world)], gl
out = [None]
dist.scatter_object_list(out, [f"to {r}" for r in range(world)] if rank == 0 else None, src=0)
assert out == [f"to {rank}"], out
checks[0] += 4

# ---- errors -------------------------------------------------------------------------------------------------------
try:
    dist.all_reduce(torch.ones(3 + rank))
except RuntimeError as e:
    assert "Detected mismatch between collectives on ranks" in str(e) and "TensorShape=[3]" in str(e) \
        and "TensorShape=[4]" in str(e), e
    checks[0] += 1
else:
    raise AssertionError("mismatched shapes were not detected")
try:
    if rank == 0:
        dist.all_reduce(torch.ones(3))
    else:
        dist.broadcast(torch.ones(3), src=0)
except RuntimeError as e:
    assert "OpType=all_reduce" in str(e) and "OpType=broadcast" in str(e), e
    checks[0] += 1
else:
    raise AssertionError("mismatched collectives were not detected")
try:
    dist.all_reduce(torch.ones(3, dtype=torch.float64 if rank else torch.float32))
except RuntimeError as e:
    assert "TensorDtype=float32" in str(e) and "TensorDtype=float64" in str(e), e
    checks[0] += 1
try:
    dist.all_reduce(torch.ones(2), op=dist.ReduceOp.BAND)
except RuntimeError as e:
    assert "BAND" in str(e), e
    checks[0] += 1
if rank == 0:
    start = time.monotonic()
    try:
        dist.barrier(timeout=datetime.timedelta(seconds=0.5))
    except dist.DistBackendError as e:
        missing = list(range(1, world))
        assert "barrier" in str(e) and f"rank(s) {missing} did not arrive" in str(e), e
        assert time.monotonic() - start < 5
        checks[0] += 1
    else:
        raise AssertionError("the barrier did not time out")
else:
    time.sleep(1.5)
    dist.barrier()  # meets rank 0's barrier message, which it posted before giving up
t = torch.ones(2)
dist.all_reduce(t)  # the group still works after the timeout
check(t, np.full(2, world, np.float32), "all_reduce after a timeout")

dist.destroy_process_group()
assert not dist.is_initialized()
print(f"CHECKS OK {rank} {checks[0]}", flush=True)
