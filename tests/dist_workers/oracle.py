"""Run under torchrun (PyTorch, gloo) and under minitorch's launcher with --as-torch: writes OUT_DIR/oracle_<rank>.json
with the results of a fixed program of collectives, which tests/test_distributed.py compares."""
import json
import os
import sys

import torch
import torch.distributed as dist

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
out = {}


def val(t):
    return [float(v) if isinstance(v, float) else v for v in t.flatten().tolist()]


def base(dtype, n=6, seed=0):
    x = torch.arange(n, dtype=torch.float64) * (rank + 1 + seed) % 7 + rank
    return (x % 2).to(torch.bool) if dtype is torch.bool else x.to(dtype)


for dtype in (torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int8,
              torch.uint8, torch.bool):
    name = str(dtype).split(".")[-1]
    for op in ("SUM", "PRODUCT", "MIN", "MAX") + (("BAND", "BOR", "BXOR") if not dtype.is_floating_point else ()):
        t = base(dtype, seed=len(op))
        try:
            dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
            out[f"all_reduce {name} {op}"] = val(t)
        except (RuntimeError, ValueError) as e:
            out[f"all_reduce {name} {op}"] = "error"
    t = base(dtype, seed=3)
    dist.broadcast(t, src=1)
    out[f"broadcast {name}"] = val(t)
    t = base(dtype, seed=4)
    dist.reduce(t, dst=1)
    out[f"reduce {name}"] = val(t) if rank == 1 else None
x = torch.arange(12, dtype=torch.float32).reshape(3, 4) + 100 * rank
xt = x.t()  # non-contiguous
ys = [torch.zeros(4, 3) for _ in range(world)]
dist.all_gather(ys, xt.contiguous())
out["all_gather"] = [val(y) for y in ys]
big = torch.zeros(world * 3, 4)
dist.all_gather_into_tensor(big, x)
out["all_gather_into_tensor"] = val(big)
o = torch.zeros(2, 3)
dist.reduce_scatter_tensor(o, torch.arange(world * 6, dtype=torch.float32).reshape(world * 2, 3) * (rank + 1))
out["reduce_scatter_tensor"] = val(o)
o = torch.zeros(3)
dist.reduce_scatter(o, [torch.full((3,), float(rank * 10 + j)) for j in range(world)], op=dist.ReduceOp.MAX)
out["reduce_scatter"] = val(o)
g = [torch.zeros(2, dtype=torch.int64) for _ in range(world)] if rank == 0 else None
dist.gather(torch.tensor([rank, rank * 2]), g, dst=0)
out["gather"] = [val(t) for t in g] if g else None
s = torch.zeros(2)
dist.scatter(s, [torch.full((2,), float(j) + 0.5) for j in range(world)] if rank == 1 else None, src=1)
out["scatter"] = val(s)
inp = torch.arange(world * 2, dtype=torch.float32) + rank * 10
res = torch.zeros(world * 2)
dist.all_to_all_single(res, inp)
out["all_to_all_single"] = val(res)
sizes_in = [1 + j for j in range(world)]
inp = torch.arange(sum(sizes_in), dtype=torch.int64) + rank * 100
res = torch.zeros(world * (rank + 1), dtype=torch.int64)
dist.all_to_all_single(res, inp, [rank + 1] * world, sizes_in)
out["all_to_all_single uneven"] = val(res)
objs = [None] * world
dist.all_gather_object(objs, {"rank": rank, "v": [1, 2.5, "s"]})
out["all_gather_object"] = objs
lst = [rank, "x", {"k": rank}]
dist.broadcast_object_list(lst, src=1)
out["broadcast_object_list"] = lst
right, left = (rank + 1) % world, (rank - 1) % world
got = torch.zeros(3, dtype=torch.int64)
for w in dist.batch_isend_irecv([dist.P2POp(dist.isend, torch.arange(3) + 10 * rank, right),
                                 dist.P2POp(dist.irecv, got, left)]):
    w.wait()
out["batch_isend_irecv"] = val(got)
objs = [None, None]
if rank == 0:
    dist.send_object_list([{"a": 1}, "b"], dst=1)
elif rank == 1:
    out["recv_object_list sender"] = dist.recv_object_list(objs, src=0)
out["recv_object_list"] = objs
with open(os.path.join(sys.argv[1], f"oracle_{rank}.json"), "w") as fh:  # whole lines of two ranks interleave
    json.dump(out, fh, sort_keys=True)
dist.destroy_process_group()
