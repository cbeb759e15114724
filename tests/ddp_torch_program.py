"""A PyTorch DDP program (imports torch): run by tests/test_ddp.py under torchrun with PyTorch and, unchanged, under
`python -m minitorch.distributed.run --as-torch`; both print the same losses and parameters.

init_process_group, DistributedSampler (with set_epoch), DistributedDataParallel over a model with BatchNorm (its
buffers broadcast each forward), no_sync gradient accumulation, all_reduce of a metric, rank-0 output.
Weights and data are built from linspace so that both libraries start from the same numbers.
"""
import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    n = 100  # not a multiple of world x batch: the sampler pads, the last batch is short
    x = torch.linspace(-3, 3, n * 8).reshape(8, n).t().sin()
    y = ((x[:, 0] + x[:, 3] * x[:, 5]) > 0).long()
    data = TensorDataset(x, y)
    sampler = DistributedSampler(data, shuffle=False)
    loader = DataLoader(data, batch_size=12, sampler=sampler)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 2))
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_((torch.linspace(-2, 2, p.numel()) * (i + 1)).cos().reshape(p.shape) * 0.4)
    ddp = DDP(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.2, momentum=0.9)
    for epoch in range(3):
        sampler.set_epoch(epoch)
        stats = torch.zeros(3)  # loss sum, correct, count
        for step, (xb, yb) in enumerate(loader):
            out = ddp(xb)
            loss = F.cross_entropy(out, yb)
            if step % 2 == 0:
                with ddp.no_sync():  # accumulate this micro-batch locally
                    loss.backward()
                continue
            loss.backward()
            opt.step()
            opt.zero_grad()
            stats += torch.tensor([loss.item() * len(yb), (out.argmax(1) == yb).sum().item(), len(yb)])
        dist.all_reduce(stats)
        if rank == 0:
            print(f"epoch {epoch} loss {stats[0] / stats[2]:.5f} accuracy {stats[1] / stats[2]:.4f}")
    total = sum(p.double().abs().sum().item() for p in ddp.module.parameters())
    print(f"rank {rank} parameter sum {total:.5f} running_var sum {model[1].running_var.sum().item():.5f}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
