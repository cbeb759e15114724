"""DistributedSampler against PyTorch's (one process), and DistributedDataParallel / SyncBatchNorm with two MPI
processes against one process on the whole batch (tests/ddp_worker.py runs in each rank)."""
import itertools

import pytest

import minitorch
from minitorch.utils.data import DistributedSampler
from minitorch.utils.data.distributed import DistributedSampler as DistributedSamplerAtPath


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


# --- DistributedSampler (no MPI needed) ---------------------------------------------------------------------------

SPLITS = [(n, reps) for n in (0, 1, 2, 5, 7, 10, 16, 33) for reps in (1, 2, 3, 4, 8)]


@pytest.mark.torch
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_unshuffled_matches_torch(torch, drop_last):
    """Padding, dropping and per-rank strides as PyTorch's, over dataset sizes smaller and larger than the world."""
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    for n, reps in SPLITS:
        data = list(range(n))
        for rank in range(reps):
            ours = DistributedSampler(data, num_replicas=reps, rank=rank, shuffle=False, drop_last=drop_last)
            ref = TorchSampler(data, num_replicas=reps, rank=rank, shuffle=False, drop_last=drop_last)
            assert list(ours) == list(ref), (n, reps, rank)
            assert len(ours) == len(ref) == ours.num_samples == ref.num_samples
            assert ours.total_size == ref.total_size


@pytest.mark.torch
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shuffled_split_matches_torch(torch, monkeypatch, drop_last):
    """Given PyTorch's permutation for seed + epoch (minitorch's generator draws different numbers), every rank
    reads the indices PyTorch's sampler gives it, for several epochs and seeds."""
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    seen = []

    def torch_randperm(n, *, generator=None, **kw):
        seen.append(generator.initial_seed())
        g = torch.Generator().manual_seed(generator.initial_seed())
        return minitorch.tensor(torch.randperm(n, generator=g).tolist())

    monkeypatch.setattr(minitorch, "randperm", torch_randperm)
    for (n, reps), seed, epoch in itertools.product([(10, 3), (7, 2), (33, 4), (2, 3)], (0, 5), (0, 1, 3)):
        for rank in range(reps):
            ours = DistributedSampler(range(n), num_replicas=reps, rank=rank, seed=seed, drop_last=drop_last)
            ref = TorchSampler(range(n), num_replicas=reps, rank=rank, seed=seed, drop_last=drop_last)
            ours.set_epoch(epoch)
            ref.set_epoch(epoch)
            assert list(ours) == list(ref), (n, reps, rank, seed, epoch)
            assert seen[-1] == seed + epoch


def test_sampler_shuffled_partition():
    """With minitorch's own generator: the ranks share one order per epoch (disjoint shares covering the data), and
    set_epoch changes it."""
    n, reps = 23, 4
    shares = [list(DistributedSampler(range(n), reps, r, seed=3)) for r in range(reps)]
    assert set(sum(shares, [])) == set(range(n)) and all(len(s) == 6 for s in shares)
    again = [list(DistributedSampler(range(n), reps, r, seed=3)) for r in range(reps)]
    assert again == shares
    s = DistributedSampler(range(n), reps, 0, seed=3)
    s.set_epoch(1)
    assert list(s) != shares[0]
    dropped = [list(DistributedSampler(range(n), reps, r, seed=3, drop_last=True)) for r in range(reps)]
    flat = sum(dropped, [])
    assert len(flat) == len(set(flat)) == 20


def test_randperm_differs_from_torch_documented(torch):
    """minitorch.Generator is NumPy's PCG64, not PyTorch's MT19937: a seeded randperm is a valid permutation with
    other numbers. The DistributedSampler docstring says so; this test fails if that ever changes."""
    g = minitorch.Generator().manual_seed(0)
    ours = minitorch.randperm(50, generator=g).tolist()
    ref = torch.randperm(50, generator=torch.Generator().manual_seed(0)).tolist()
    assert sorted(ours) == list(range(50))
    assert ours != ref
    assert "PCG64" in DistributedSampler.__doc__


@pytest.mark.torch
def test_sampler_errors_and_paths(torch):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler
    assert DistributedSampler is DistributedSamplerAtPath
    for rank in (2, -1):
        with pytest.raises(ValueError) as ref:
            TorchSampler(range(4), num_replicas=2, rank=rank)
        with pytest.raises(ValueError, match=r"Invalid rank .*interval \[0, 1\]") as ours:
            DistributedSampler(range(4), num_replicas=2, rank=rank)
        assert str(ours.value) == str(ref.value)
