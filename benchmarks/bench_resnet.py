"""ResNet-18 training step (forward + backward) on ImageNet-sized input: minitorch.vision.models.resnet18 vs the same
network in PyTorch (built from torch.nn with torchvision's module names, since torchvision may not be installed),
both holding the same weights (the PyTorch state dict written with torch.save and read with minitorch.load).

Time: batch 8 x 3 x 224 x 224, float32, train mode (BatchNorm batch statistics); after one warm-up step per library
(minitorch compiles its kernels on a first run), --reps timed steps each, interleaved; the table shows the median.
Both libraries use --threads threads. Also checks that the two outputs agree.

Run: python benchmarks/bench_resnet.py [--batch 8 --size 224 --reps 1 --threads 2]
"""
import argparse
import os
import statistics
import tempfile
import time

import numpy as np


def torch_resnet18(torch):
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            chans = [64, 64, 128, 256, 512]
            for i in range(1, 5):
                stride = 1 if i == 1 else 2
                setattr(self, f"layer{i}", nn.Sequential(Block(chans[i - 1], chans[i], stride),
                                                         Block(chans[i], chans[i], 1)))
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return Net()


def step(model, x):
    for p in model.parameters():
        p.grad = None
    out = model(x)
    out.sum().backward()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    import numba
    import torch

    import minitorch
    from minitorch.vision import models
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    torch.set_num_threads(args.threads)

    torch.manual_seed(0)
    tmodel = torch_resnet18(torch).train()
    mmodel = models.resnet18().train()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "resnet18.pth")
        torch.save(tmodel.state_dict(), path)
        mmodel.load_state_dict(minitorch.load(path))
    x = np.random.default_rng(0).standard_normal((args.batch, 3, args.size, args.size)).astype(np.float32)
    inputs = {"minitorch": (mmodel, minitorch.tensor(x)), "torch": (tmodel, torch.from_numpy(x))}
    outs = {name: step(m, xi).detach().numpy() for name, (m, xi) in inputs.items()}  # warm-up
    err = np.abs(outs["minitorch"] - outs["torch"]).max() / max(np.abs(outs["torch"]).max(), 1e-12)
    times = {name: [] for name in inputs}
    for _ in range(args.reps):
        for name, (m, xi) in inputs.items():
            t0 = time.perf_counter()
            step(m, xi)
            times[name].append(time.perf_counter() - t0)
    mt, tt = (statistics.median(times[n]) * 1e3 for n in ("minitorch", "torch"))
    case = f"resnet18 fwd+bwd {args.batch}x3x{args.size}x{args.size}"
    print(f"threads={args.threads}  outputs agree to {err:.1e} (max relative)")
    print("case | minitorch ms | torch ms | ratio")
    print(f"{case} | {mt:.1f} | {tt:.1f} | {mt / tt:.2f}")


if __name__ == "__main__":
    main()
