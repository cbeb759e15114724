"""Train PyTorch's classic MNIST CNN (two 3x3 convs, max-pool, dropout, log_softmax + nll_loss, Adadelta + StepLR)
with minitorch. Same data handling and offline fallback as mnist_mlp.py.

Run:  python examples/mnist_cnn.py [--dataset mnist|fashion-mnist] [--epochs 2] [--batch-size 64] [--lr 1.0]
                                   [--gamma 0.7] [--device cpu] [--data-root data] [--out runs/mnist_cnn] [--limit N]
                                   [--channels 32 64] [--hidden 128] [--tensorboard [DIR]]
"""
import os
import sys
import time

import minitorch as torch
import minitorch.nn as nn
import minitorch.nn.functional as F
import minitorch.optim as optim
from minitorch.optim.lr_scheduler import StepLR

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mnist_mlp import log_epoch, open_writer, parse_args, save_plot, setup, tqdm  # noqa: E402  (shared parts)


class Net(nn.Module):
    def __init__(self, channels=(32, 64), hidden=128):
        super().__init__()
        c1, c2 = channels
        self.conv1 = nn.Conv2d(1, c1, 3, 1)
        self.conv2 = nn.Conv2d(c1, c2, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(c2 * 12 * 12, hidden)  # 9216 inputs at the default widths
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        x = self.fc2(x)
        return F.log_softmax(x, dim=1)


def train_epoch(model, device, loader, optimizer, epoch, log_every):
    model.train()
    losses = []
    for batch_idx, (data, target) in enumerate(tqdm(loader, desc=f"epoch {epoch}", leave=False)):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if batch_idx % log_every == 0:
            losses.append(loss.item())
    return losses


@torch.no_grad()
def evaluate(model, device, loader):
    """(mean loss, accuracy, up to 36 misclassified (image, predicted, true) triples)."""
    model.eval()
    loss, correct, n, wrong = 0.0, 0, 0, []
    for data, target in loader:
        data, target = data.to(device), target.to(device)
        output = model(data)
        loss += F.nll_loss(output, target, reduction="sum").item()
        pred = output.argmax(dim=1)
        hit = pred == target
        correct += hit.sum().item()
        n += target.shape[0]
        if len(wrong) < 36:
            for i in (~hit).nonzero().reshape(-1).tolist()[:36 - len(wrong)]:
                wrong.append((data[i, 0].cpu().numpy(), int(pred[i]), int(target[i])))
    return loss / n, correct / n, wrong


def save_misclassified(wrong, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    if not wrong:
        return
    cols = 6
    rows = -(-len(wrong) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5))
    for ax in axes.reshape(-1):
        ax.axis("off")
    for ax, (img, pred, true) in zip(axes.reshape(-1), wrong):
        ax.imshow(img, cmap="gray")
        ax.set_title(f"{pred} (true {true})", fontsize=8)
    fig.suptitle("misclassified test digits: predicted (true)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv=None):
    args = parse_args(argv, __doc__.splitlines()[0], epochs=2, lr=1.0, out="runs/mnist_cnn")
    device, train_loader, test_loader = setup(args)

    if args.hidden is not None and len(args.hidden) != 1:
        raise SystemExit(f"--hidden takes one width for the CNN, got {args.hidden}")
    model = Net(args.channels, args.hidden[0] if args.hidden else 128).to(device)
    optimizer = optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    log_every = 10
    losses = []
    writer = open_writer(args)
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        epoch_losses = train_epoch(model, device, train_loader, optimizer, epoch, log_every)
        losses += epoch_losses
        t_train = time.perf_counter() - t0
        test_loss, acc, wrong = evaluate(model, device, test_loader)
        print(f"epoch {epoch}: train {t_train:.1f}s, test loss {test_loss:.4f}, test accuracy {100 * acc:.2f}%")
        sys.stdout.flush()
        log_epoch(writer, epoch, epoch_losses, test_loss, acc, optimizer)  # the rate this epoch trained with
        scheduler.step()
    if writer is not None:
        writer.close()

    os.makedirs(args.out, exist_ok=True)
    ckpt = os.path.join(args.out, "mnist_cnn.safetensors")
    torch.save(model.state_dict(), ckpt)
    save_plot(losses, log_every, os.path.join(args.out, "loss.png"), "MNIST CNN (minitorch)")
    save_misclassified(wrong, os.path.join(args.out, "misclassified.png"))
    print(f"final test accuracy {100 * acc:.2f}%; checkpoint {ckpt}; plots in {args.out}")
    return acc


if __name__ == "__main__":
    main()
