"""The MNIST data pipeline against the MLP example's training step: does loading a batch cost less than a quarter
of training on it?

Pipeline: one epoch of ``DataLoader(dataset, batch_size=64, shuffle=True)`` (in the main process, as the MNIST
examples run it) over 60,000 28x28 uint8 images with ``Compose([ToTensor(), Normalize((0.1307,), (0.3081,))])``,
through ``vision.datasets``' own ``__getitem__`` (PIL image, then the transforms) and ``default_collate``. The
images are Fashion-MNIST's 60,000 training images when they are on this machine (same format and size as MNIST),
else random ones. Reported: the median time per batch over whole epochs (and the mean).

Step: the MLP of ``examples/mnist_mlp.py`` (784-128-64-10) with its optimizer (SGD, momentum 0.9): zero_grad,
forward, cross-entropy, backward, step on a 64-image batch; the median time per step over --steps steps after a
warm-up (and the mean). Both are measured in --repeats alternating rounds. Medians are what the target compares:
on a shared machine the means mostly measure the other processes (a multi-threaded step that loses a core waits
for it).

Reference: PyTorch's DataLoader over the same uint8 images with the same per-sample work done in torch
(PIL image -> float CHW / 255 -> (x - mean) / std, torchvision's ToTensor + Normalize; torchvision itself is not
installable here), and PyTorch's own time for the same MLP step, when torch is installed.

Run: python benchmarks/bench_data_pipeline.py [--steps 938] [--repeats 3] [--images 60000] [--threads N]
"""
import argparse
import gzip
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
FASHION = "/usr/share/datasets/fashion-mnist"
MEAN, STD = (0.1307,), (0.3081,)


def load_images(n):
    path = os.path.join(FASHION, "train-images-idx3-ubyte.gz")
    if os.path.exists(path):
        with gzip.open(path, "rb") as f:
            raw = np.frombuffer(f.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)
        images, source = raw[:n], "Fashion-MNIST training images"
    else:
        images, source = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8), "random images"
    labels = np.random.default_rng(1).integers(0, 10, n).astype(np.int64)
    if len(images) < n:  # fewer real images than asked for: repeat them
        images = np.resize(images, (n, 28, 28))
    return np.ascontiguousarray(images), labels, source


def write_idx(folder, images, labels):
    """MNIST's raw files, so the dataset under test is ``vision.datasets.MNIST`` itself."""
    raw = os.path.join(folder, "MNIST", "raw")
    os.makedirs(raw, exist_ok=True)
    with open(os.path.join(raw, "train-images-idx3-ubyte"), "wb") as f:
        f.write(np.array([0x803, len(images), 28, 28], dtype=">u4").tobytes())
        f.write(images.tobytes())
    with open(os.path.join(raw, "train-labels-idx1-ubyte"), "wb") as f:
        f.write(np.array([0x801, len(labels)], dtype=">u4").tobytes())
        f.write(labels.astype(np.uint8).tobytes())


def epoch_times(loader):
    """Seconds for each batch of one epoch."""
    times = []
    it = iter(loader)
    while True:
        t0 = time.perf_counter()
        try:
            next(it)
        except StopIteration:
            return times
        times.append(time.perf_counter() - t0)


def minitorch_loader(folder):
    import minitorch
    from minitorch.utils.data import DataLoader
    from minitorch.vision import datasets, transforms
    minitorch.manual_seed(0)
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
    ds = datasets.MNIST(folder, train=True, transform=tf)
    loader = DataLoader(ds, batch_size=64, shuffle=True)
    next(iter(loader))  # warm-up
    return loader


def torch_loader(images, labels):
    import torch
    from PIL import Image

    class Images(torch.utils.data.Dataset):
        def __init__(self):
            self.data, self.targets = torch.from_numpy(images), torch.from_numpy(labels)

        def __len__(self):
            return len(self.data)

        def __getitem__(self, i):
            img = Image.fromarray(self.data[i].numpy(), mode="L")
            x = torch.from_numpy(np.array(img, np.uint8, copy=True)).view(1, 28, 28).float().div(255)
            x = x.sub(torch.tensor(MEAN).view(-1, 1, 1)).div(torch.tensor(STD).view(-1, 1, 1))
            return x, int(self.targets[i])

    torch.manual_seed(0)
    loader = torch.utils.data.DataLoader(Images(), batch_size=64, shuffle=True)
    next(iter(loader))
    return loader


def make_step(lib, model):
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    g = np.random.default_rng(2)
    x = lib.tensor(g.standard_normal((64, 1, 28, 28)).astype(np.float32))
    y = lib.tensor(g.integers(0, 10, 64))

    def step():
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
    for _ in range(20):  # warm-up (first calls compile)
        step()
    return step


def step_times(step, steps):
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return times


def measure(repeats, loader, step, steps):
    """Per-batch times of the pipeline and of the step, ``repeats`` alternating rounds of each pooled."""
    pipes, steps_ = [], []
    for _ in range(repeats):
        pipes += epoch_times(loader)
        steps_ += step_times(step, steps)
    return pipes, steps_


def report(name, pipes, steps):
    mp, ms = statistics.median(pipes), statistics.median(steps)
    print(f"{name:10s} data pipeline {mp * 1e3:8.3f} ms/batch median, {statistics.fmean(pipes) * 1e3:8.3f} mean "
          f"({len(pipes)} batches)")
    print(f"{name:10s} MLP train step {ms * 1e3:7.3f} ms/batch median, {statistics.fmean(steps) * 1e3:8.3f} mean "
          f"({len(steps)} steps)")
    return mp, ms


def minitorch_mlp():
    spec = importlib.util.spec_from_file_location("mnist_mlp", os.path.join(HERE, "..", "examples", "mnist_mlp.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.MLP()


def torch_mlp():
    import torch.nn as nn
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                         nn.Linear(64, 10))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=938, help="training steps per round")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--images", type=int, default=60000)
    p.add_argument("--threads", type=int, default=None, help="kernel threads for both libraries (default: all)")
    args = p.parse_args(argv)
    sys.path.insert(0, os.path.join(HERE, ".."))
    import minitorch
    if args.threads:
        minitorch.set_num_threads(args.threads)
    images, labels, source = load_images(args.images)
    print(f"data: {len(images)} x 28 x 28 uint8 ({source}), batch 64, shuffle, ToTensor + Normalize; "
          f"{args.repeats} rounds")
    with tempfile.TemporaryDirectory() as folder:
        write_idx(folder, images, labels)
        loader = minitorch_loader(folder)
        pipes, steps = measure(args.repeats, loader, make_step(minitorch, minitorch_mlp()), args.steps)
    pipe, step = report("minitorch", pipes, steps)
    ratio = pipe / step
    print(f"pipeline / step = {ratio:.3f} (medians; means: {statistics.fmean(pipes) / statistics.fmean(steps):.3f})"
          f"  target < 0.25: {'met' if ratio < 0.25 else 'MISSED'}")
    try:
        import torch
    except ImportError:
        print("torch not installed: no PyTorch reference")
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # from_numpy of a read-only array; Image.fromarray(mode=) on new Pillow
        tpipes, tsteps = measure(args.repeats, torch_loader(images, labels), make_step(torch, torch_mlp()),
                                 args.steps)
    tpipe, tstep = report("torch", tpipes, tsteps)
    print(f"torch pipeline / step = {tpipe / tstep:.3f} (the DataLoader does the same per-sample work in torch); "
          f"minitorch pipeline / torch pipeline = {pipe / tpipe:.2f}")


if __name__ == "__main__":
    main()
