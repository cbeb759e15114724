"""The few torchvision names PyTorch's `mnist` example program imports, written on torch, numpy and PIL.

torchvision cannot be installed beside the CPU build of torch==2.13.0 on our machines, so PyTorch could not run
that program for the whole-process comparison of benchmarks/bench_example_mnist.py. Putting this folder first on
PYTHONPATH of the *PyTorch* process gives it `torchvision.datasets.MNIST` (reading the IDX files already under
``root/MNIST/raw``; it downloads nothing) and `transforms.Compose`, `ToTensor` and `Normalize`, each doing what
torchvision documents. It is benchmark scaffolding for the oracle side only; minitorch's own loaders live in
minitorch.vision.
"""
from . import datasets, transforms  # noqa: F401
