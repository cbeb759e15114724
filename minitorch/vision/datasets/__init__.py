"""Vision datasets, as ``torchvision.datasets``: MNIST and its family, CIFAR, SVHN, STL10, Omniglot, CelebA,
ImageFolder/DatasetFolder, FakeData, and ``mnist_5k`` for offline use."""
from .celeba import CelebA
from .cifar import CIFAR10, CIFAR100
from .fakedata import FakeData
from .folder import DatasetFolder, ImageFolder
from .mnist import EMNIST, KMNIST, MNIST, QMNIST, MNIST5k, FashionMNIST, mnist_5k
from .omniglot import Omniglot
from .stl10 import STL10
from .svhn import SVHN
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST", "QMNIST", "MNIST5k", "mnist_5k", "CIFAR10", "CIFAR100",
           "SVHN", "STL10", "Omniglot", "CelebA", "FakeData", "DatasetFolder", "ImageFolder", "VisionDataset"]
