"""``DistributedSampler``: each process of a data-parallel job reads its own share of a dataset."""
import math

import minitorch

from .sampler import Sampler

__all__ = ["DistributedSampler"]


def _world(what):
    from ... import distributed as dist
    if not dist.is_available():
        raise RuntimeError("Requires distributed package to be available")
    return dist.get_world_size() if what == "size" else dist.get_rank()


class DistributedSampler(Sampler):
    """Indices of the share of ``dataset`` that replica ``rank`` of ``num_replicas`` reads each epoch.

    Every replica draws the same order (``randperm`` seeded with ``seed + epoch`` when ``shuffle``, else
    ``0..len-1``), makes it a multiple of ``num_replicas`` long (repeating indices from its start, or with
    ``drop_last`` cutting the tail off) and takes every ``num_replicas``-th index starting at ``rank``, as
    PyTorch's sampler does. Call ``set_epoch(epoch)`` before each epoch so the shuffled order changes.

    Args:
        dataset: a map-style dataset (only its ``len`` is used).
        num_replicas: the number of processes (default: the process group's world size).
        rank: this process's index (default: its rank in the process group).
        shuffle: draw a new order each epoch (default True).
        seed: the base seed, the same on every replica.
        drop_last: drop the tail so that every replica gets the same number of distinct samples instead of
            padding with repeated ones.

    Note: minitorch's ``Generator`` is NumPy's PCG64, not PyTorch's Mersenne Twister, so a shuffled epoch
    draws a different (equally random) order than PyTorch for the same seed; the unshuffled split, the
    padding and the per-rank strides are PyTorch's exactly.

    Example::

        >>> sampler = DistributedSampler(train_set, num_replicas=2, rank=0)
        >>> loader = DataLoader(train_set, batch_size=64, sampler=sampler)
        >>> for epoch in range(3):
        ...     sampler.set_epoch(epoch)
        ...     for x, y in loader: ...
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0, drop_last=False):
        if num_replicas is None:
            num_replicas = _world("size")
        if rank is None:
            rank = _world("rank")
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            # the largest share that every replica can fill with distinct samples
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self):
        n = len(self.dataset)
        if self.shuffle:
            g = minitorch.Generator()
            g.manual_seed(self.seed + self.epoch)
            order = minitorch.randperm(n, generator=g).tolist()
        else:
            order = list(range(n))
        if self.drop_last:
            order = order[:self.total_size]
        else:
            missing = self.total_size - len(order)
            if missing > 0:
                # repeat the order from its start as often as needed (a tiny dataset may need several copies)
                order += (order * math.ceil(missing / len(order)))[:missing]
        assert len(order) == self.total_size
        return iter(order[self.rank:self.total_size:self.num_replicas])

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use ``seed + epoch`` for the next shuffled order (call before each epoch, the same on every replica)."""
        self.epoch = epoch
