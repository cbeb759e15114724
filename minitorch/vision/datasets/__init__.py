"""Vision datasets, as ``torchvision.datasets``: MNIST, FashionMNIST, and ``mnist_5k`` for offline use."""
from .mnist import MNIST, MNIST5k, FashionMNIST, mnist_5k

__all__ = ["MNIST", "FashionMNIST", "MNIST5k", "mnist_5k"]
