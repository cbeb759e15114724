"""ResNet-18 forward+backward on 8x3x224x224 float32: minitorch vs torch, for the whole model and for each distinct
layer shape (conv, batch norm, relu, max pool, residual add, average pool, fc), at the default thread count and at
one thread for both libraries.

The model is built here from ``nn`` modules of each library (conv1 7x7/2, bn, relu, maxpool 3x3/2, four stages of
two BasicBlocks with a 1x1/2 downsample where the shape changes, adaptive average pool, fc 512->1000) with the same
weights copied into both. The two libraries run alternately in one process, several repetitions each; the table
gives the minimum and the median.

Run: python benchmarks/bench_resnet18_layers.py [--reps 5] [--threads 2,1] [--only model|layers] [--batch 8]
"""
import argparse
import statistics
import time

import numpy as np


def build(nn, seed=0):
    """A torchvision-shaped ResNet-18 from the library's nn modules (no dependency on a model zoo)."""

    class BasicBlock(nn.Module):
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
            idt = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + idt)

    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            layers = []
            cin = 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
                cin = cout
            self.layer1, self.layer2, self.layer3, self.layer4 = layers
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18()


def copy_weights(src, dst, lib):
    """Copy the torch model's parameters and buffers into the minitorch one (same names, same shapes)."""
    sd = {k: v.detach().numpy().copy() for k, v in src.state_dict().items()}
    own = dst.state_dict()
    assert set(own) == set(sd), set(own) ^ set(sd)
    dst.load_state_dict({k: lib.from_numpy(v) for k, v in sd.items()})


def layer_cases(N):
    """(name, kind, args, input shape): every distinct layer shape of ResNet-18 at batch N."""
    cs = [("conv1 7x7/2 3->64 224", "conv", (3, 64, 7, 2, 3), (N, 3, 224, 224)),
          ("bn 64 @112", "bn", (64,), (N, 64, 112, 112)),
          ("relu 64 @112", "relu", (), (N, 64, 112, 112)),
          ("maxpool 3x3/2 64 @112", "maxpool", (), (N, 64, 112, 112))]
    cin, size = 64, 56
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        osz = size // stride
        if stride != 1:
            cs.append((f"conv3x3/2 {cin}->{cout} @{size}", "conv", (cin, cout, 3, 2, 1), (N, cin, size, size)))
            cs.append((f"conv1x1/2 {cin}->{cout} @{size}", "conv", (cin, cout, 1, 2, 0), (N, cin, size, size)))
        cs.append((f"conv3x3 {cout}->{cout} @{osz}", "conv", (cout, cout, 3, 1, 1), (N, cout, osz, osz)))
        cs.append((f"bn {cout} @{osz}", "bn", (cout,), (N, cout, osz, osz)))
        cs.append((f"relu {cout} @{osz}", "relu", (), (N, cout, osz, osz)))
        cs.append((f"add {cout} @{osz}", "add", (), (N, cout, osz, osz)))
        cin, size = cout, osz
    cs.append(("avgpool 512 @7", "avgpool", (), (N, 512, 7, 7)))
    cs.append(("fc 512->1000", "fc", (512, 1000), (N, 512)))
    return cs


def make_layer(nn, kind, args):
    if kind == "conv":
        cin, cout, k, s, p = args
        return nn.Conv2d(cin, cout, k, s, p, bias=False)
    if kind == "bn":
        return nn.BatchNorm2d(args[0])
    if kind == "relu":
        return nn.ReLU()  # not in place: the benchmark input is a leaf that needs its gradient
    if kind == "maxpool":
        return nn.MaxPool2d(3, 2, 1)
    if kind == "avgpool":
        return nn.AdaptiveAvgPool2d((1, 1))
    if kind == "fc":
        return nn.Linear(*args)
    return None  # add


def layer_step(lib, kind, layer, x, g, y):
    """Forward+backward of one layer against a fixed output gradient (the gradient of sum(out * g))."""
    xx = lib.from_numpy(x)
    yy = lib.from_numpy(y) if y is not None else None
    gg = lib.from_numpy(g)

    def run():
        xr = xx.detach().requires_grad_()
        if kind == "add":
            yr = yy.detach().requires_grad_()
            out = xr + yr
        else:
            out = layer(xr)
        out.backward(gg)
    return run


def model_step(lib, model, x, target):
    xx = lib.from_numpy(x)
    tt = lib.from_numpy(target)
    F = lib.nn.functional

    def run():
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(xx), tt).backward()
    return run


def timed(fns, reps):
    """Run each callable once to warm up, then alternate them ``reps`` times; per callable the list of seconds."""
    for f in fns:
        f()
    ts = [[] for _ in fns]
    for _ in range(reps):
        for f, t in zip(fns, ts):
            t0 = time.perf_counter()
            f()
            t.append(time.perf_counter() - t0)
    return ts


def row(name, tm, tt):
    mm, mt = min(tm), min(tt)
    dm, dt = statistics.median(tm), statistics.median(tt)
    print(f"{name:28s} | {mm * 1e3:9.2f} {dm * 1e3:9.2f} | {mt * 1e3:9.2f} {dt * 1e3:9.2f} | {mm / mt:6.2f} "
          f"{dm / dt:6.2f}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", default="default,1", help="comma list of thread counts; 'default' = unchanged")
    ap.add_argument("--only", choices=("model", "layers"), default=None)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--filter", default="", help="run only the layer cases whose name contains this")
    a = ap.parse_args()

    import minitorch
    import torch

    N = a.batch
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, 3, 224, 224), dtype=np.float32)
    target = rng.integers(0, 1000, N).astype(np.int64)
    torch.manual_seed(0)
    t_model = build(torch.nn)
    m_model = build(minitorch.nn)
    copy_weights(t_model, m_model, minitorch)
    t_model.train()
    m_model.train()

    d_mt, d_tt = minitorch.get_num_threads(), torch.get_num_threads()
    for th in a.threads.split(","):
        if th == "default":
            minitorch.set_num_threads(d_mt)
            torch.set_num_threads(d_tt)
        else:
            minitorch.set_num_threads(int(th))
            torch.set_num_threads(int(th))
        print(f"\n== threads: minitorch {minitorch.get_num_threads()}, torch {torch.get_num_threads()}; batch {N}; "
              f"{a.reps} reps, min and median ==")
        print(f"{'case':28s} | {'minitorch ms':>19s} | {'torch ms':>19s} | {'ratio':>13s}")
        if a.only != "layers":
            tm, tt = timed([model_step(minitorch, m_model, x, target), model_step(torch, t_model, x, target)], a.reps)
            row("resnet18 fwd+bwd (CE loss)", tm, tt)
        if a.only == "model":
            continue
        for name, kind, args, shape in layer_cases(N):
            if a.filter and a.filter not in name:
                continue
            xs = rng.standard_normal(shape, dtype=np.float32)
            ys = rng.standard_normal(shape, dtype=np.float32) if kind == "add" else None
            tl = make_layer(torch.nn, kind, args)
            ml = make_layer(minitorch.nn, kind, args)
            if tl is not None:
                copy_weights(tl, ml, minitorch)
                with torch.no_grad():
                    out_shape = tuple(tl(torch.from_numpy(xs)).shape)
            else:
                out_shape = shape
            gs = rng.standard_normal(out_shape, dtype=np.float32)
            tm, tt = timed([layer_step(minitorch, kind, ml, xs, gs, ys), layer_step(torch, kind, tl, xs, gs, ys)],
                           a.reps)
            row(name, tm, tt)


if __name__ == "__main__":
    main()
