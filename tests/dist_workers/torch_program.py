"""A program written for PyTorch (run by tests/test_distributed.py with --as-torch or minitorch.run): checks the
launcher's environment, all-reduces, and with --fail raises on rank 1 (--exit: calls sys.exit) while rank 0 waits in
a barrier."""
import os
import sys

assert "mpi4py" not in sys.modules, "importing the framework must not import mpi4py"
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

assert torch.__name__ == "minitorch", torch.__name__
dist.init_process_group(backend="gloo", init_method="env://")
rank, world = dist.get_rank(), dist.get_world_size()
assert os.environ["RANK"] == str(rank) and os.environ["WORLD_SIZE"] == str(world), dict(os.environ)
assert os.environ["LOCAL_RANK"] == str(rank) and os.environ["LOCAL_WORLD_SIZE"] == str(world)
assert "MASTER_ADDR" in os.environ and "MASTER_PORT" in os.environ or "--plain" in sys.argv
t = torch.ones(2) * (rank + 1)
dist.all_reduce(t, op=dist.ReduceOp.SUM)
print(f"rank {rank} of {world}: sum {t.tolist()}", flush=True)
if rank == 1 and "--fail" in sys.argv:
    raise ValueError("deliberate failure on rank 1")
if rank == 1 and "--exit" in sys.argv:
    sys.exit(3)  # leaves without an error: rank 0 must notice instead of waiting for the timeout
dist.barrier()  # without the abort, rank 0 would wait here forever
print(f"finished {rank}", flush=True)
