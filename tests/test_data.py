"""minitorch.utils.data: datasets, samplers, collation and the DataLoader (PyTorch's torch.utils.data as oracle)."""
import collections
import os
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest

import minitorch
from minitorch.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
                                  RandomSampler, SequentialSampler, StackDataset, Subset, SubsetRandomSampler,
                                  TensorDataset, WeightedRandomSampler, default_collate, default_convert,
                                  get_worker_info, random_split)
from minitorch.utils.data.dataloader import _numba_gnu_openmp_live


def _flatten(batches):
    return [v for b in batches for v in (b.tolist() if hasattr(b, "tolist") else b)]


class Squares(Dataset):
    """Item i is (i, i * i) as Python ints; module level so that any start method can pickle it."""

    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return i, i * i


class Stream(IterableDataset):
    """0 .. n-1, each worker taking every num_workers-th value (sharded with get_worker_info)."""

    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))

    def __len__(self):
        return self.n


class Failing(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        if i == 5:
            raise ValueError(f"bad sample {i}")
        return i


class WorkerSeeds(Dataset):
    """Each item reports which worker made it and a draw from minitorch's default generator there."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = get_worker_info()
        return info.id, minitorch.rand(()).item(), info.seed


class Slow(Dataset):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        time.sleep(1.0)
        return i


class BigOpInWorker(Dataset):
    """Runs a parallel-sized kernel in __getitem__: fatal in a forked worker under Numba's GNU OpenMP layer."""

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return minitorch.ones(1 << 17).exp().sum() + i


# ----------------------------------------------------------------------------------------------------------------
# datasets
# ----------------------------------------------------------------------------------------------------------------
def test_tensor_dataset_indexes_first_dim():
    x = minitorch.arange(12).reshape(6, 2)
    y = minitorch.arange(6) * 10
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    xi, yi = ds[4]
    assert xi.tolist() == [8, 9] and yi.item() == 40


def test_tensor_dataset_size_mismatch():
    with pytest.raises(AssertionError, match=r"Size mismatch between tensors: first dims are \[3, 4\]"):
        TensorDataset(minitorch.zeros(3), minitorch.zeros(4))


def test_concat_and_add_match_torch():
    torch_data = pytest.importorskip("torch.utils.data")
    parts = [list(range(3)), list(range(10, 15)), list(range(20, 22))]

    class L(Dataset):
        def __init__(self, v):
            self.v = v

        def __len__(self):
            return len(self.v)

        def __getitem__(self, i):
            return self.v[i]

    ours = ConcatDataset([L(p) for p in parts])
    ref = torch_data.ConcatDataset(parts)
    assert len(ours) == len(ref) == 10
    assert [ours[i] for i in range(-10, 10)] == [ref[i] for i in range(-10, 10)]
    assert ours.cumulative_sizes == ref.cumulative_sizes
    both = L([1, 2]) + L([3])
    assert isinstance(both, ConcatDataset) and [both[i] for i in range(3)] == [1, 2, 3]


def test_concat_errors():
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Stream(3)])
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        ConcatDataset([Squares(2)])[-3]


def test_chain_and_stack_datasets():
    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2]
    assert len(ChainDataset([Stream(2), Stream(3)])) == 5
    st = StackDataset(Squares(3), Squares(3))
    assert st[2] == ((2, 4), (2, 4)) and len(st) == 3
    assert StackDataset(a=Squares(2), b=Squares(2))[1] == {"a": (1, 1), "b": (1, 1)}
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(2), Squares(3))


def test_subset():
    sub = Subset(Squares(10), [7, 2, 5])
    assert len(sub) == 3 and sub[0] == (7, 49) and sub.__getitems__([1, 2]) == [(2, 4), (5, 25)]


def test_random_split_sizes_match_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import random_split as torch_split
    for n, lengths in ((11, [0.3, 0.3, 0.4]), (10, [0.5, 0.5]), (7, [3, 4]), (5, [0.1, 0.9])):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zero-length splits warn in both
            ours = random_split(range(n), lengths, generator=minitorch.Generator().manual_seed(0))
            ref = torch_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
        assert [len(s) for s in ours] == [len(s) for s in ref]
        assert sorted(i for s in ours for i in s) == list(range(n))


def test_random_split_is_deterministic_given_a_seed():
    def split():
        return [list(s) for s in random_split(range(20), [5, 15], generator=minitorch.Generator().manual_seed(3))]
    assert split() == split()
    minitorch.manual_seed(1)
    a = [list(s) for s in random_split(range(20), [0.5, 0.5])]
    minitorch.manual_seed(1)
    assert a == [list(s) for s in random_split(range(20), [0.5, 0.5])]


def test_random_split_errors():
    with pytest.raises(ValueError, match=r"Sum of input lengths does not equal the length of the input dataset"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match=r"Fraction at index 0 is not between 0 and 1 \(got 1.5\)"):
        random_split(range(10), [1.5, -0.5])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(range(2), [0.9, 0.1])


# ----------------------------------------------------------------------------------------------------------------
# samplers
# ----------------------------------------------------------------------------------------------------------------
def test_sequential_and_random_sampler():
    assert list(SequentialSampler(range(5))) == [0, 1, 2, 3, 4]
    perm = list(RandomSampler(range(50)))
    assert sorted(perm) == list(range(50)) and perm != list(range(50))
    drawn = list(RandomSampler(range(4), replacement=True, num_samples=70))
    assert len(drawn) == 70 and set(drawn) <= {0, 1, 2, 3}
    more = list(RandomSampler(range(4), num_samples=10))
    assert len(more) == 10 and sorted(more[:4]) == [0, 1, 2, 3]
    g = minitorch.Generator().manual_seed(5)
    first = list(RandomSampler(range(30), generator=g))
    g.manual_seed(5)
    assert list(RandomSampler(range(30), generator=g)) == first


def test_random_sampler_errors():
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)


def test_subset_random_and_weighted_samplers():
    assert sorted(SubsetRandomSampler([4, 8, 15])) == [4, 8, 15]
    draws = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], num_samples=40))
    assert len(draws) == 40 and set(draws) <= {1, 3}
    with pytest.raises(ValueError, match="weights should be a 1d sequence"):
        WeightedRandomSampler([[1.0, 2.0]], num_samples=2)


@pytest.mark.parametrize("drop_last", [False, True])
def test_batch_sampler_matches_torch(drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    ours = BatchSampler(SequentialSampler(range(10)), batch_size=3, drop_last=drop_last)
    ref = torch_data.BatchSampler(torch_data.SequentialSampler(range(10)), batch_size=3, drop_last=drop_last)
    assert list(ours) == list(ref) and len(ours) == len(ref)


def test_batch_sampler_errors():
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=None"):
        BatchSampler(range(3), 2, None)


# ----------------------------------------------------------------------------------------------------------------
# collation
# ----------------------------------------------------------------------------------------------------------------
Point = collections.namedtuple("Point", ["x", "y"])


def _same(ours, ref):
    """ours (minitorch) has the structure, dtypes and values of ref (torch)."""
    import torch
    if isinstance(ref, torch.Tensor):
        assert isinstance(ours, minitorch.Tensor), type(ours)
        assert str(ours.dtype).split(".")[-1] == str(ref.dtype).split(".")[-1]
        assert tuple(ours.shape) == tuple(ref.shape)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    elif isinstance(ref, dict):
        assert type(ours) is type(ref) and ours.keys() == ref.keys()
        for k in ref:
            _same(ours[k], ref[k])
    elif isinstance(ref, (list, tuple)):
        assert type(ours) is type(ref) and len(ours) == len(ref)
        for a, b in zip(ours, ref):
            _same(a, b)
    else:
        assert ours == ref


def _samples(lib):
    t = lib.tensor
    return [
        {"img": t([[1.0, 2.0], [3.0, 4.0]]), "label": 3, "w": 0.5, "name": "a", "np": np.arange(3, dtype=np.int32),
         "pt": Point(1, 2.5), "pair": (True, np.float32(1.5)), "lst": [1, 2], "f64": np.float64(2.0)},
        {"img": t([[5.0, 6.0], [7.0, 8.0]]), "label": 4, "w": 1.5, "name": "b", "np": np.arange(3, 6, dtype=np.int32),
         "pt": Point(3, 4.5), "pair": (False, np.float32(2.5)), "lst": [3, 4], "f64": np.float64(3.0)},
    ]


def test_default_collate_matches_torch():
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate
    _same(default_collate(_samples(minitorch)), torch_collate(_samples(torch)))
    _same(default_collate([0, 1, 2]), torch_collate([0, 1, 2]))
    _same(default_collate([(1, "x"), (2, "y")]), torch_collate([(1, "x"), (2, "y")]))


def test_default_collate_non_contiguous_and_requires_grad():
    base = minitorch.arange(12.0).reshape(3, 4)
    out = default_collate([base.t(), base.t() + 1])  # non-contiguous views
    np.testing.assert_array_equal(out.numpy(), np.stack([base.numpy().T, base.numpy().T + 1]))
    w = minitorch.ones(2, requires_grad=True)
    stacked = default_collate([w, w * 2])
    assert stacked.requires_grad  # through minitorch.stack, so gradients flow
    stacked.sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]


def test_default_convert_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert
    data = {"a": np.arange(3), "b": (np.float32(2.0), "s"), "c": Point(np.zeros(2), 1)}
    _same(default_convert(data), torch_convert(data))


def test_default_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size, but got \[2\] at entry 0 "
                                           r"and \[3\] at entry 1"):
        default_collate([minitorch.zeros(2), minitorch.zeros(3)])


# ----------------------------------------------------------------------------------------------------------------
# DataLoader, single process
# ----------------------------------------------------------------------------------------------------------------
def test_loader_batches_and_len():
    ds = TensorDataset(minitorch.arange(20.0).reshape(10, 2), minitorch.arange(10))
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == len(batches) == 3
    assert [tuple(x.shape) for x, _ in batches] == [(4, 2), (4, 2), (2, 2)]
    assert _flatten(y for _, y in batches) == list(range(10))
    assert batches[0][1].dtype is minitorch.int64 and batches[0][0].dtype is minitorch.float32
    assert len(DataLoader(ds, batch_size=4, drop_last=True)) == 2
    assert [len(y) for _, y in DataLoader(ds, batch_size=4, drop_last=True)] == [4, 4]


def test_loader_without_batching_converts_samples():
    items = list(DataLoader([np.arange(2), np.arange(2, 4)], batch_size=None))
    assert [type(i) for i in items] == [minitorch.Tensor] * 2 and items[1].tolist() == [2, 3]


def test_loader_shuffle_is_deterministic_and_reshuffles():
    ds = Squares(30)
    loader = DataLoader(ds, batch_size=7, shuffle=True)
    minitorch.manual_seed(0)
    epoch1 = _flatten(b[0] for b in loader)
    epoch2 = _flatten(b[0] for b in loader)
    minitorch.manual_seed(0)
    assert _flatten(b[0] for b in loader) == epoch1
    assert sorted(epoch1) == list(range(30)) and epoch1 != epoch2 and epoch1 != list(range(30))
    g = minitorch.Generator().manual_seed(9)
    first = _flatten(b[0] for b in DataLoader(ds, batch_size=7, shuffle=True, generator=g))
    g.manual_seed(9)
    assert _flatten(b[0] for b in DataLoader(ds, batch_size=7, shuffle=True, generator=g)) == first


def test_loader_sampler_batch_sampler_and_collate_fn():
    ds = Squares(10)
    assert _flatten(b[0] for b in DataLoader(ds, batch_size=2, sampler=[9, 0, 4])) == [9, 0, 4]
    bs = [[1, 2, 3], [7]]
    assert [b[1].tolist() for b in DataLoader(ds, batch_sampler=bs)] == [[1, 4, 9], [49]]
    assert list(DataLoader(ds, batch_size=3, collate_fn=len)) == [3, 3, 3, 1]


def test_loader_iterable_dataset():
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(7), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(7), batch_size=3)) == 3
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]  # ints pass through, as in torch


BAD_ARGS = [
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive with batch_size"),
    (dict(batch_sampler=[[0]], shuffle=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiprocessing"),
    (dict(num_workers=1, prefetch_factor=-1), "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(multiprocessing_context="fork"), "multiprocessing_context can only be used with multi-process loading"),
    (dict(num_workers=1, multiprocessing_context="nope"), "multiprocessing_context option should specify a valid "
                                                          "start method"),
]


@pytest.mark.parametrize("kwargs, match", BAD_ARGS, ids=[m[:40] for _, m in BAD_ARGS])
def test_loader_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Squares(4), **kwargs)


@pytest.mark.parametrize("kwargs, match", BAD_ARGS, ids=[m[:40] for _, m in BAD_ARGS])
def test_loader_argument_errors_match_torch(kwargs, match):
    torch_data = pytest.importorskip("torch.utils.data")
    with pytest.raises(ValueError, match=match):
        torch_data.DataLoader(list(range(4)), **kwargs)


@pytest.mark.parametrize("kwargs, match", [
    (dict(shuffle=True), "DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle=True"),
    (dict(sampler=[0]), "DataLoader with IterableDataset: expected unspecified sampler option"),
    (dict(batch_sampler=[[0]]), "DataLoader with IterableDataset: expected unspecified batch_sampler option"),
])
def test_loader_iterable_dataset_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DataLoader(Stream(3), **kwargs)


def test_loader_attributes_are_frozen():
    loader = DataLoader(Squares(4), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3


def test_loader_warnings():
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no accelerator is found"):
        next(iter(DataLoader(Squares(2), pin_memory=True)))
    with pytest.warns(UserWarning, match="This DataLoader will create 4096 worker processes in total"):
        DataLoader(Squares(2), num_workers=4096)


# ----------------------------------------------------------------------------------------------------------------
# DataLoader with worker processes
# ----------------------------------------------------------------------------------------------------------------
def test_workers_give_the_same_batches_in_order():
    ds = TensorDataset(minitorch.arange(300.0).reshape(100, 3), minitorch.arange(100))
    single = list(DataLoader(ds, batch_size=8))
    multi = list(DataLoader(ds, batch_size=8, num_workers=2))
    assert len(multi) == len(single) == 13
    for (xs, ys), (xm, ym) in zip(single, multi):
        assert xm.dtype is xs.dtype and ym.dtype is ys.dtype
        np.testing.assert_array_equal(xm.numpy(), xs.numpy())
        np.testing.assert_array_equal(ym.numpy(), ys.numpy())


def test_workers_shuffle_like_the_main_process():
    loader0 = DataLoader(Squares(40), batch_size=6, shuffle=True)
    loader2 = DataLoader(Squares(40), batch_size=6, shuffle=True, num_workers=2)
    minitorch.manual_seed(4)
    order0 = _flatten(b[0] for b in loader0)
    minitorch.manual_seed(4)
    assert _flatten(b[0] for b in loader2) == order0


def test_worker_exception_is_reraised_with_its_type():
    with pytest.raises(ValueError, match=r"(?s)Caught ValueError in DataLoader worker process \d+.*bad sample 5"):
        list(DataLoader(Failing(), batch_size=2, num_workers=2))


def test_worker_seeds_info_and_init_fn():
    minitorch.manual_seed(0)
    first = list(DataLoader(WorkerSeeds(), batch_size=2, num_workers=2))
    minitorch.manual_seed(0)
    again = list(DataLoader(WorkerSeeds(), batch_size=2, num_workers=2))
    ids = _flatten(b[0] for b in first)
    assert ids == [0, 0, 1, 1, 0, 0, 1, 1]  # batches go round robin
    draws = _flatten(b[1] for b in first)
    assert draws == _flatten(b[1] for b in again)  # reproducible given the main seed
    assert draws[0] != draws[2]  # but the two workers draw different numbers
    seeds = _flatten(b[2] for b in first)
    assert seeds[2] == seeds[0] + 1


def _init_fn(worker_id):
    os.environ["MINITORCH_TEST_WORKER"] = str(worker_id)


class EnvReader(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return int(os.environ.get("MINITORCH_TEST_WORKER", "-1"))


def test_worker_init_fn_runs_in_each_worker():
    assert _flatten(DataLoader(EnvReader(), batch_size=1, num_workers=2, worker_init_fn=_init_fn)) == [0, 1, 0, 1]


def test_iterable_dataset_sharded_over_workers():
    got = _flatten(DataLoader(Stream(11), batch_size=2, num_workers=2))
    assert sorted(got) == list(range(11))


def test_persistent_workers_survive_epochs_and_early_breaks():
    loader = DataLoader(Squares(20), batch_size=3, num_workers=2, persistent_workers=True)
    it = iter(loader)
    next(it)  # leave the first epoch early: its prefetched batches must not leak into the next
    for _ in range(2):
        assert _flatten(b[0] for b in loader) == list(range(20))
    pids = [w.pid for w in loader._iterator._workers]
    list(loader)
    assert [w.pid for w in loader._iterator._workers] == pids
    loader._iterator._shutdown_workers()


def test_iterable_dataset_with_persistent_workers():
    loader = DataLoader(Stream(11), batch_size=2, num_workers=2, persistent_workers=True)
    for _ in range(2):
        assert sorted(_flatten(loader)) == list(range(11))
    loader._iterator._shutdown_workers()


def test_forkserver_workers_run_any_kernel():
    minitorch.ones(1 << 20).exp().sum()
    loader = DataLoader(BigOpInWorker(), batch_size=2, num_workers=1, multiprocessing_context="forkserver")
    (batch,) = list(loader)
    expected = float(minitorch.ones(1 << 17).exp().sum())
    np.testing.assert_allclose(batch.numpy(), [expected, expected + 1], rtol=1e-6)


def test_timeout():
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.3 seconds"):
        list(DataLoader(Slow(), num_workers=1, timeout=0.3))


def test_unpicklable_arguments_with_spawn():
    loader = DataLoader(Squares(4), num_workers=1, collate_fn=lambda b: b, multiprocessing_context="spawn")
    with pytest.raises(RuntimeError, match="workers receive the dataset, collate_fn and worker_init_fn by pickling"):
        next(iter(loader))


def test_dead_worker_is_reported_not_waited_for():
    minitorch.ones(1 << 20).exp().sum()  # start Numba's thread pool in this process
    if not _numba_gnu_openmp_live() or multiprocessing_start_method() != "fork":
        pytest.skip("only Numba's GNU OpenMP layer kills forked workers")
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) .*killed by signal SIGTERM.*exited "
                                           r"unexpectedly.*multiprocessing_context='forkserver'"):
        list(DataLoader(BigOpInWorker(), num_workers=1))


def multiprocessing_start_method():
    import multiprocessing
    return multiprocessing.get_start_method()


FORK_SAFETY_SCRIPT = textwrap.dedent("""
    import numpy as np
    import minitorch
    from minitorch.utils.data import DataLoader, TensorDataset
    from minitorch.vision import transforms

    class Images(minitorch.utils.data.Dataset):
        # 3x224x224 images: every transform step is large enough for a parallel kernel
        def __len__(self):
            return 6
        def __getitem__(self, i):
            return np.full((224, 224, 3), i, dtype=np.uint8), i

    class Transformed(Images):
        tf = transforms.Compose([transforms.ToTensor(), transforms.RandomHorizontalFlip(),
                                 transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
        def __getitem__(self, i):
            img, label = super().__getitem__(i)
            return self.tf(img), label

    if __name__ == "__main__":
        total = minitorch.randn(1 << 20).exp().sum()  # parallel kernels run in this process first
        x = minitorch.arange(64 * 784, dtype=minitorch.float32).reshape(64, 784)
        y = minitorch.arange(64)
        for epoch in range(2):
            got = [(xb, yb) for xb, yb in DataLoader(TensorDataset(x, y), batch_size=16, num_workers=2)]
            assert minitorch.cat([xb for xb, _ in got]).tolist() == x.tolist()
            assert minitorch.cat([yb for _, yb in got]).tolist() == list(range(64))
        for xb, yb in DataLoader(Transformed(), batch_size=3, num_workers=2):
            assert tuple(xb.shape) == (3, 3, 224, 224) and xb.dtype is minitorch.float32
            expected = (yb.numpy()[:, None, None, None] / np.float32(255) - 0.5) / 0.5
            np.testing.assert_allclose(xb.numpy(), np.broadcast_to(expected, xb.shape), rtol=1e-6)
        print("batches ok")
""")


def test_workers_after_parallel_kernels_neither_warn_nor_hang(tmp_path):
    script = tmp_path / "fork_safety.py"
    script.write_text(FORK_SAFETY_SCRIPT)
    proc = subprocess.run([sys.executable, "-W", "always", str(script)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "batches ok"
    assert proc.stderr == "", proc.stderr  # no warning, no "Terminating: fork() called ..." from Numba
