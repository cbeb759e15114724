"""Run in every rank of a 2-process job by tests/test_ddp.py: DistributedDataParallel and SyncBatchNorm against
one process that trains on the whole batch (every rank recomputes that reference itself, from the same seed).

Usage: python -m minitorch.distributed.run --nproc-per-node 2 tests/ddp_worker.py [checks|crash|cuda]
Prints "rank R ok: <check>" per passed check; any mismatch raises (the job exits non-zero).
"""
import copy
import sys

import numpy as np

import minitorch as torch
import minitorch.distributed as dist
import minitorch.nn as nn
import minitorch.nn.functional as F
from minitorch.nn.parallel import DistributedDataParallel as DDP

RTOL, ATOL = 2e-5, 2e-6  # float32 rounding: the averaged gradients are summed in another order than one process


def close(a, b, what):
    a, b = a.detach().numpy(), b.detach().numpy()
    if not np.allclose(a, b, rtol=RTOL, atol=ATOL):
        raise AssertionError(f"rank {RANK}: {what} differs by {np.abs(a - b).max():.3g}")


def same_params(ddp_model, ref, what):
    for (n, p), (_, q) in zip(ddp_model.module.named_parameters(), ref.named_parameters()):
        close(p, q, f"{what}: parameter {n}")
    for (n, p), (_, q) in zip(ddp_model.module.named_buffers(), ref.named_buffers()):
        close(p.double(), q.double(), f"{what}: buffer {n}")


def ok(what):
    print(f"rank {RANK} ok: {what}", flush=True)


class Net(nn.Module):
    def __init__(self, norm=None):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.norm = norm(4) if norm is not None else nn.Identity()
        self.fc1 = nn.Linear(4 * 6 * 6, 16)
        self.fc2 = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(self.norm(self.conv(x)))
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


def data(steps, batch, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(batch, 1, 8, 8, generator=g), torch.randint(0, 3, (batch,), generator=g))
            for _ in range(steps)]


def mine(x):
    """This rank's half of a batch."""
    h = x.shape[0] // WORLD
    return x[RANK * h:(RANK + 1) * h]


def train_pair(norm, sync_norm=None, steps=3, batch=8, **ddp_kw):
    torch.manual_seed(1)
    ref = Net(norm)
    model = copy.deepcopy(ref)
    if sync_norm:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    ddp = DDP(model, **ddp_kw)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    for x, y in data(steps, batch):
        opt.zero_grad()
        F.cross_entropy(ddp(mine(x)), mine(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    return ddp, ref


def check_construction():
    torch.manual_seed(10 + RANK)  # different weights per rank: DDP must start from rank 0's
    model = Net(nn.BatchNorm2d)
    with torch.no_grad():
        model.norm.running_mean.fill_(RANK + 1.0)
    ddp = DDP(model)
    torch.manual_seed(10)
    rank0 = Net(nn.BatchNorm2d)
    with torch.no_grad():
        rank0.norm.running_mean.fill_(1.0)
    same_params(ddp, rank0, "parameters and buffers broadcast from rank 0")
    keys = list(ddp.state_dict())
    assert keys == ["module." + k for k in rank0.state_dict()], keys
    assert ddp.module is model
    ok("construction broadcast, module attribute, state_dict keys")


def check_plain():
    group = dist.new_group([0, 1])
    for kw in ({}, {"bucket_cap_mb": 0.0001}, {"gradient_as_bucket_view": True}, {"process_group": group}):
        ddp, ref = train_pair(None, **kw)
        same_params(ddp, ref, f"no batch norm {kw}")
    if len(ddp.reducer.buckets) < 1:
        raise AssertionError("no buckets")
    ddp, _ = train_pair(None, bucket_cap_mb=0.0001)
    assert len(ddp.reducer.buckets) > 2, len(ddp.reducer.buckets)
    # overlap: the first buckets' all-reduces started while later gradients were still to come
    n = len(list(ddp.parameters()))
    assert ddp.reducer.launched_after[0] < n and ddp.reducer.launched_after[-1] == n, ddp.reducer.launched_after
    ok("2 ranks on B/2 == 1 process on B (default, many small buckets, gradient_as_bucket_view, new_group)")


def check_comm_hook():
    calls = []

    def average(state, bucket):
        calls.append((bucket.index(), bucket.is_last(), len(bucket.parameters()), len(bucket.gradients())))
        state["seen"] += 1
        return dist.all_reduce(bucket.buffer().div_(WORLD), async_op=True).get_future()

    torch.manual_seed(1)
    ref = Net()
    ddp = DDP(copy.deepcopy(ref), bucket_cap_mb=0.0001)
    state = {"seen": 0}
    ddp.register_comm_hook(state, average)
    try:
        ddp.register_comm_hook(state, average)
    except RuntimeError as e:
        assert "can only be called once" in str(e)
    else:
        raise AssertionError("a second comm hook was accepted")
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    for x, y in data(2, 8):
        opt.zero_grad()
        F.cross_entropy(ddp(mine(x)), mine(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        F.cross_entropy(ref(x), y).backward()
        ref_opt.step()
    same_params(ddp, ref, "comm hook")
    n = len(ddp.reducer.buckets)
    assert state["seen"] == 2 * n and [c[:2] for c in calls[:n]] == [(k, k == n - 1) for k in range(n)], calls
    assert sum(c[2] for c in calls[:n]) == len(list(ddp.parameters())) and all(c[2] == c[3] for c in calls)
    ok("register_comm_hook: the hook reduces each bucket (GradBucket index/is_last/parameters/gradients)")


def check_sync_batchnorm():
    ddp, ref = train_pair(nn.BatchNorm2d, sync_norm=True)
    same_params(ddp, ref, "SyncBatchNorm")
    assert isinstance(ddp.module.norm, nn.SyncBatchNorm)
    ddp.eval()
    ref.eval()
    x, _ = data(1, 8, seed=5)[0]
    with torch.no_grad():
        close(ddp(x), ref(x), "SyncBatchNorm eval output")
    ok("SyncBatchNorm: parameters and running statistics == 1 process with BatchNorm on B")


def check_batchnorm_buffers():
    """Plain BatchNorm: each rank normalises its half; forward broadcasts rank 0's buffers first. Reference: the
    two halves run one after the other in one process from the same buffers."""
    torch.manual_seed(1)
    ref = Net(nn.BatchNorm2d)
    ddp = DDP(copy.deepcopy(ref))
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    bufs = list(ref.buffers())
    for x, y in data(3, 8):
        opt.zero_grad()
        F.cross_entropy(ddp(mine(x)), mine(y)).backward()
        opt.step()
        ref_opt.zero_grad()
        pre = [b.clone() for b in bufs]
        after = []
        h = x.shape[0] // WORLD
        for r in range(WORLD):
            for b, p in zip(bufs, pre):
                b.copy_(p)
            (F.cross_entropy(ref(x[r * h:(r + 1) * h]), y[r * h:(r + 1) * h]) / WORLD).backward()
            after.append([b.clone() for b in bufs])
        ref_opt.step()
        for b, a in zip(bufs, after[0]):
            b.copy_(a)  # rank 0's buffers: what the next forward broadcasts
    for b, a in zip(bufs, after[RANK]):
        b.copy_(a)  # this rank's own update in the last step
    same_params(ddp, ref, "BatchNorm with broadcast buffers")
    ok("BatchNorm: parameters and buffers (broadcast from rank 0 at each forward)")


def check_no_sync():
    torch.manual_seed(2)
    ref = Net()
    ddp = DDP(copy.deepcopy(ref))
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    micro = data(3, 8, seed=7)
    with ddp.no_sync():
        for x, y in micro[:2]:
            F.cross_entropy(ddp(mine(x)), mine(y)).backward()
    local = [p.grad.clone() for p in ddp.parameters()]
    x, y = micro[2]
    F.cross_entropy(ddp(mine(x)), mine(y)).backward()
    opt.step()
    for x, y in micro:
        F.cross_entropy(ref(x), y).backward()
    ref_opt.step()
    same_params(ddp, ref, "no_sync accumulation")
    # the local gradients inside no_sync were not averaged: they differ between the ranks
    other = [t.clone() for t in local]
    for t in other:
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
    assert any(not np.array_equal(a.numpy(), b.numpy()) for a, b in zip(local, other))
    ok("no_sync: local accumulation, averaged at the next synchronised backward")


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 3)
        self.b = nn.Linear(4, 3)
        self.never = nn.Linear(4, 3)

    def forward(self, x, use_b):
        return self.a(x) + (self.b(x) if use_b else 0)


def check_find_unused():
    torch.manual_seed(3)
    ref = Branchy()
    ddp = DDP(copy.deepcopy(ref), find_unused_parameters=True)
    x = torch.randn(4, 4)
    # rank 0 uses b, rank 1 does not: b's gradient is rank 0's divided by the world size
    ddp(x[RANK * 2:RANK * 2 + 2], use_b=RANK == 0).sum().backward()
    ref(x[0:2], use_b=True).sum().mul(1 / WORLD).backward()
    ref(x[2:4], use_b=False).sum().mul(1 / WORLD).backward()
    for (n, p), (_, q) in zip(ddp.module.named_parameters(), ref.named_parameters()):
        if n.startswith("never"):
            assert p.grad is None and q.grad is None, n
        else:
            close(p.grad, q.grad, f"find_unused_parameters gradient {n}")
    ok("find_unused_parameters: locally unused params count zeros, globally unused keep grad None")


def average_hook(state, bucket):
    return dist.all_reduce(bucket.buffer().div_(WORLD), async_op=True).get_future()


def check_join():
    for hook in (None, average_hook):
        join_once(hook)
    ok("join(): uneven inputs, joined rank shadows with zeros, final model from the last joiner (also with a "
       "comm hook)")


def check_join_throw():
    torch.manual_seed(4)
    ddp = DDP(Net())
    batches = data(3, 8, seed=9)
    try:
        with ddp.join(throw_on_early_termination=True):
            for x, y in (batches if RANK == 0 else batches[:2]):
                F.cross_entropy(ddp(mine(x)), mine(y)).backward()
    except RuntimeError as e:
        assert "Detected at least one rank that exhausted inputs" in str(e), e
    else:
        raise AssertionError("no error with throw_on_early_termination")
    ok("join(throw_on_early_termination=True): every rank raises when one runs out")


def join_once(hook):
    torch.manual_seed(4)
    ref = Net()
    ddp = DDP(copy.deepcopy(ref))
    if hook is not None:
        ddp.register_comm_hook(None, hook)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    ref_opt = torch.optim.SGD(ref.parameters(), lr=0.1)
    batches = data(3, 8, seed=9)
    mine_batches = batches if RANK == 0 else batches[:2]  # rank 1 runs out one step early
    with ddp.join():
        for x, y in mine_batches:
            opt.zero_grad()
            F.cross_entropy(ddp(mine(x)), mine(y)).backward()
            opt.step()
    h = 8 // WORLD
    for k, (x, y) in enumerate(batches):
        ref_opt.zero_grad()
        for r in range(WORLD if k < 2 else 1):
            (F.cross_entropy(ref(x[r * h:(r + 1) * h]), y[r * h:(r + 1) * h]) / WORLD).backward()
        ref_opt.step()
    same_params(ddp, ref, f"join with uneven inputs (hook {hook})")


def check_errors():
    try:
        DDP(nn.Linear(2, 2).requires_grad_(False))
    except RuntimeError as e:
        assert "doesn't have any parameter that requires a gradient" in str(e)
    else:
        raise AssertionError("no error for a module without trainable parameters")
    try:
        DDP(nn.Linear(2, 2), device_ids=[0])
    except ValueError as e:
        assert "device_ids and output_device arguments only work" in str(e)
    else:
        raise AssertionError("no error for device_ids with a CPU module")
    try:
        DDP(nn.Linear(2 + RANK, 2))
    except RuntimeError as e:
        assert "DDP expects same model across all ranks" in str(e), e
    else:
        raise AssertionError("no error for different models")
    ddp = DDP(Branchy())  # `never` gets no gradient and find_unused_parameters is off
    x = torch.randn(2, 4)
    ddp(x, use_b=True).sum().backward()
    try:
        ddp(x, use_b=True)
    except RuntimeError as e:
        assert "Expected to have finished reduction in the prior iteration" in str(e) and "never.weight" in str(e)
    else:
        raise AssertionError("no error for a parameter without gradient")
    import warnings
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        ddp = DDP(nn.Linear(2, 2), broadcast_buffers=False, check_reduction=True)
    messages = [str(w.message) for w in seen if w.category is FutureWarning]
    assert any("`broadcast_buffers` is deprecated" in m for m in messages), messages
    assert any("`check_reduction` argument in `DistributedDataParallel` module is deprecated" in m
               for m in messages), messages
    assert ddp.broadcast_buffers is False and ddp.forward_sync_buffers is False
    ok("errors")


def check_cuda():
    """A CUDA module (device_ids=[0]: inputs moved there) with SyncBatchNorm: gradients and running statistics of
    one process on the whole batch; the buckets live on the GPU (collectives stage them through the host)."""
    torch.manual_seed(0)
    ref = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2)).cuda()
    ddp = DDP(nn.SyncBatchNorm.convert_sync_batchnorm(copy.deepcopy(ref)), device_ids=[0])
    x = torch.randn(8, 4)
    F.mse_loss(ddp(mine(x)), torch.zeros(4, 2, device="cuda")).backward()
    F.mse_loss(ref(x.cuda()), torch.zeros(8, 2, device="cuda")).backward()
    assert all(b.buffer.device.type == "cuda" for b in ddp.reducer.buckets)
    for p, q in zip(ddp.module.parameters(), ref.parameters()):
        assert p.grad.device.type == "cuda"
        close(p.grad.cpu(), q.grad.cpu(), "CUDA gradient")
    close(ddp.module[1].running_var.cpu(), ref[1].running_var.cpu(), "CUDA running_var")
    ok("CUDA module with SyncBatchNorm")


def crash():
    torch.manual_seed(0)
    ddp = DDP(Net())
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    for step, (x, y) in enumerate(data(4, 8)):
        if step == 2 and RANK == 1:
            raise ValueError("boom in rank 1 at step 2")
        opt.zero_grad()
        F.cross_entropy(ddp(mine(x)), mine(y)).backward()
        opt.step()


if __name__ == "__main__":
    dist.init_process_group("gloo")
    RANK, WORLD = dist.get_rank(), dist.get_world_size()
    if sys.argv[1:] == ["crash"]:
        crash()
    elif sys.argv[1:] == ["cuda"]:
        check_cuda()
    else:
        for check in (check_construction, check_plain, check_comm_hook, check_sync_batchnorm, check_batchnorm_buffers, check_no_sync,
                      check_find_unused, check_join, check_join_throw, check_errors):
            check()
        print(f"rank {RANK} all ok", flush=True)
    dist.destroy_process_group()
