"""``DistributedDataParallel``: one model replica per process, gradients averaged over the process group during
backward in buckets whose all-reduces overlap the rest of the backward pass.

How a step goes (all ranks issue the same collectives in the same order, which MPI needs):

- construction: a fingerprint of the parameter shapes is compared across ranks, then rank 0's parameters and
  buffers are broadcast (one coalesced broadcast per dtype);
- forward: buffers are broadcast from rank 0 first (``broadcast_buffers``), and the reducer is armed;
- backward: a post-accumulate-grad hook on every parameter copies its gradient into its bucket (a flat buffer of
  about ``bucket_cap_mb``; parameters in reverse order, so the last layers, whose gradients come first, fill the
  first bucket); when a bucket is complete it is scaled by 1/world_size and its all-reduce starts (non-blocking,
  buckets in index order); the end-of-backward callback waits for them and writes the averages into ``.grad``.
"""
import contextlib
import warnings
import weakref
import zlib

from ...autograd.function import AccumulateGrad
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...tensor import Tensor
from ..modules.module import Module

__all__ = ["DistributedDataParallel", "GradBucket"]

_MB = 1024 * 1024
_FIRST_BUCKET_BYTES = 1 * _MB  # a small first bucket starts communication early, as PyTorch's default


def _dist():
    from ... import distributed
    return distributed


def _src_rank(group, local):
    """The global rank of rank ``local`` of ``group`` (collectives take global ranks, as in PyTorch)."""
    return local if group is None else _dist().get_global_rank(group, local)


def _flatten(tensors):
    from ...ops.shape import cat
    return cat([t.detach().reshape(-1) for t in tensors])


def _broadcast_coalesced(tensors, src, group):
    """Broadcast ``tensors`` from ``src`` in place, one collective per dtype (every rank passes the same list)."""
    dist = _dist()
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault((t.dtype, t.device), []).append(t)
    with no_grad():
        for group_tensors in by_dtype.values():
            flat = _flatten(group_tensors)
            dist.broadcast(flat, src, group=group)
            off = 0
            for t in group_tensors:
                n = t.numel()
                t.copy_(flat[off:off + n].view(t.shape))
                off += n


def _tensors_in(obj, out):
    if isinstance(obj, Tensor):
        out.append(obj)
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            _tensors_in(x, out)
    elif isinstance(obj, dict):
        for x in obj.values():
            _tensors_in(x, out)
    return out


def _reachable_leaves(outputs):
    """ids of the leaves whose AccumulateGrad node some output's graph reaches."""
    seen, leaves = set(), set()
    stack = []
    for t in outputs:
        if t._grad_fn is not None:
            stack.append(t._grad_fn)
        elif t.requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if isinstance(node, AccumulateGrad):
            leaves.add(id(node.variable))
            continue
        for nxt, _ in node._edges:
            if nxt is not None and nxt not in seen:
                stack.append(nxt)
    return leaves


class _Bucket:
    """A flat gradient buffer for some parameters (one dtype and device) and its in-flight all-reduce."""

    def __init__(self, index, params):
        from ...creation import zeros
        self.index = index
        self.params = params  # (parameter index, parameter)
        self.offsets = []
        off = 0
        for _, p in params:
            self.offsets.append(off)
            off += p.numel()
        p0 = params[0][1]
        self.buffer = zeros(off, dtype=p0.dtype, device=p0.device)
        self.views = [self.buffer[o:o + p.numel()].view(p.shape) for o, (_, p) in zip(self.offsets, params)]
        self.pending = len(params)
        self.work = None

    def reset(self):
        self.pending = len(self.params)
        self.work = None


class GradBucket:
    """What a communication hook gets (``torch.distributed.GradBucket``): one bucket's flat gradient buffer."""

    def __init__(self, bucket, last):
        self._bucket, self._last = bucket, last

    def index(self):
        return self._bucket.index

    def buffer(self):
        return self._bucket.buffer

    def gradients(self):
        return list(self._bucket.views)

    def parameters(self):
        return [p for _, p in self._bucket.params]

    def is_last(self):
        return self._last

    def set_buffer(self, buffer):
        self._bucket.buffer.copy_(buffer)


class _ZeroBucket:
    """A bucket of zeros shaped as ``like`` (what a joined rank contributes)."""

    def __init__(self, index, buffer, like):
        self.index, self.buffer, self.params = index, buffer, like.params
        self.views = [buffer[o:o + p.numel()].view(p.shape) for o, (_, p) in zip(like.offsets, like.params)]


class _Reducer:
    """Bucketed gradient averaging driven by the parameters' post-accumulate-grad hooks."""

    def __init__(self, ddp, params, names, bucket_bytes_cap, first_bucket_bytes_cap):
        self.ddp = weakref.ref(ddp)
        self.params = params
        self.names = names
        self.buckets = []
        self.where = {}  # parameter index -> (bucket, slot)
        # reverse order: the gradients of the last layers are ready first; one bucket list per dtype and device
        open_buckets, caps = {}, {}
        for i in reversed(range(len(params))):
            p = params[i]
            key = (p.dtype, p.device)
            cur = open_buckets.setdefault(key, [[], 0])
            cur[0].append((i, p))
            cur[1] += p.numel() * p.element_size()
            limit = first_bucket_bytes_cap if caps.get(key, 0) == 0 else bucket_bytes_cap
            if cur[1] >= limit:
                self._add_bucket(cur[0])
                caps[key] = caps.get(key, 0) + 1
                open_buckets[key] = [[], 0]
        for members, _ in open_buckets.values():
            if members:
                self._add_bucket(members)
        self.buckets.sort(key=lambda b: min(len(params) - 1 - i for i, _ in b.params))
        for k, b in enumerate(self.buckets):
            b.index = k
        self.armed = False        # a synchronised forward happened; this backward must average
        self.started = False      # the armed backward has seen its first gradient
        self.unused = set()       # parameter indices that the forward's output graph does not reach
        self.ready = [False] * len(params)
        self.next_bucket = 0
        self.div_factor = None    # world size, or the number of ranks still training under join()
        self.join_div_work = None
        self.used_map_work = None
        self.used_map = None
        self.finalized = True
        self.iterations = 0       # completed synchronised backward passes
        self.handles = []
        ref = weakref.ref(self)

        def make_hook(i):
            def hook(param):
                reducer = ref()
                if reducer is not None:
                    reducer.grad_ready(i)
            return hook

        for i, p in enumerate(params):
            self.handles.append(p.register_post_accumulate_grad_hook(make_hook(i)))

    def _add_bucket(self, members):
        b = _Bucket(len(self.buckets), members)
        for slot, (i, _) in enumerate(members):
            self.where[i] = (b, slot)
        self.buckets.append(b)

    # ---- per iteration ---------------------------------------------------------------------------------------
    def prepare_for_backward(self, unused):
        for b in self.buckets:
            b.reset()
        self.ready = [False] * len(self.params)
        self.n_ready = 0
        self.launched_after = []  # per bucket: how many gradients were ready when its all-reduce started
        self.unused = unused
        self.next_bucket = 0
        self.armed = True
        self.started = False
        self.finalized = False

    def grad_ready(self, i):
        if not self.armed:
            return  # no_sync(), a forward without grad, or a backward not through this DDP's forward
        if not self.started:
            self.started = True
            from ...autograd.engine import queue_callback
            queue_callback(self.finalize)
            for j in sorted(self.unused):
                self._mark(j, used=False)
        self._mark(i, used=True)

    def _mark(self, i, used):
        if self.ready[i]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter {self.names[i]} (index {i}) has been marked "
                "as ready twice in this backward pass: it is used in several forward passes of the model before one "
                "backward, or reused in a reentrant backward. DistributedDataParallel cannot average its gradient.")
        self.ready[i] = True
        self.n_ready += 1
        b, slot = self.where[i]
        view = b.views[slot]
        p = self.params[i]
        with no_grad():
            if not used or p.grad is None:
                view.zero_()
            elif p.grad._storage is not b.buffer._storage:
                view.copy_(p.grad)
        b.pending -= 1
        if b.pending == 0:
            self._launch_ready()

    def _factor(self):
        if self.join_div_work is not None:
            work, count, initial = self.join_div_work
            work.wait()
            self.join_div_work = None
            self.div_factor = initial if initial is not None else max(int(count.item()), 1)
        return self.div_factor

    def _launch_ready(self):
        dist = _dist()
        ddp = self.ddp()
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            if ddp._comm_hook is not None:
                state, hook = ddp._comm_hook
                b.work = hook(state, GradBucket(b, b.index == len(self.buckets) - 1))
            else:
                with no_grad():
                    b.buffer.mul_(1.0 / self._factor())
                b.work = dist.all_reduce(b.buffer, group=ddp.process_group, async_op=True)
            self.launched_after.append(self.n_ready)
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets) and ddp.find_unused_parameters and self.used_map_work is None:
            self._launch_used_map()

    def _launch_used_map(self):
        from ...creation import tensor
        from ... import int32
        used = [0 if i in self.unused else 1 for i in range(len(self.params))]
        self.used_map = tensor(used, dtype=int32, device=self.params[0].device)
        self.used_map_work = _dist().all_reduce(self.used_map, group=self.ddp().process_group, async_op=True)

    def finalize(self):
        """End of backward: wait for every bucket and write the averaged gradients into ``.grad``."""
        if self.next_bucket < len(self.buckets):
            # some parameter got no gradient and find_unused_parameters is off: PyTorch reports this at the next
            # forward (the other ranks are waiting in an all-reduce that this rank never started)
            self.armed = False
            return
        ddp = self.ddp()
        globally_used = None
        if self.used_map_work is not None:
            self.used_map_work.wait()
            globally_used = self.used_map.tolist()
            self.used_map_work = None
        for b in self.buckets:
            result = b.work.wait()
            b.work = None
            if ddp._comm_hook is not None:
                # a hook's future gives the reduced bucket (a tensor, or a list holding one)
                out = result[0] if isinstance(result, (list, tuple)) else result
                if not isinstance(out, Tensor) or out.shape != b.buffer.shape:
                    raise RuntimeError("Communication hook: the future must give a tensor of the bucket's shape "
                                       f"{tuple(b.buffer.shape)}, got {type(out).__name__}")
                if out._storage is not b.buffer._storage:
                    with no_grad():
                        b.buffer.copy_(out)
            for (i, p), view in zip(b.params, b.views):
                if globally_used is not None and not globally_used[i]:
                    continue  # no rank used it: leave .grad untouched, as PyTorch does
                with no_grad():
                    if ddp.gradient_as_bucket_view:
                        if p.grad is None or p.grad._storage is not b.buffer._storage:
                            p.grad = view
                    elif p.grad is None:
                        p.grad = view.clone()
                    else:
                        p.grad.copy_(view)
        self.armed = False
        self.finalized = True
        self.iterations += 1

    def check_finished(self):
        if not self.finalized and self.started:
            missing = [self.names[i] for i, r in enumerate(self.ready) if not r]
            self.finalized = True
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. You can enable "
                "unused parameter detection by passing the keyword argument `find_unused_parameters=True` to "
                "`torch.nn.parallel.DistributedDataParallel`, and by making sure all `forward` function outputs "
                f"participate in calculating loss. Parameters which did not receive grad: {', '.join(missing)}")

    def zeros_like_buckets(self):
        from ...creation import zeros_like
        return [zeros_like(b.buffer) for b in self.buckets]


class DistributedDataParallel(Module):
    """Data parallelism over a process group: each process runs ``module`` on its own share of the data, and the
    gradients are averaged across processes during ``backward``, so every replica takes the same optimizer step.

    ``minitorch.distributed.init_process_group`` must have run. Rank 0's parameters and buffers are broadcast at
    construction (``init_sync``). During backward, gradients are gathered into buckets of about ``bucket_cap_mb``
    (the first one 1 MiB, parameters in reverse order) whose all-reduces start as soon as every gradient of the
    bucket has been accumulated, overlapping the rest of the backward pass; the end of backward waits for them.

    Args:
        module: the model replica.
        device_ids: ``None`` for CPU modules; ``[i]`` for a module on one GPU (inputs are moved there).
        output_device: the device of the output (single-device modules: ``device_ids[0]``).
        dim: kept for PyTorch's signature (no scatter happens: each process feeds its own batch).
        broadcast_buffers: deprecated alias of ``forward_sync_buffers`` (a ``FutureWarning`` as PyTorch 2.13);
            ``False`` also skips the buffer broadcast at construction.
        init_sync: broadcast rank 0's parameters (and buffers) at construction.
        process_group: the group to average over (default: the whole world).
        bucket_cap_mb: bucket size in MiB (default 25).
        find_unused_parameters: find the parameters that the output does not depend on at each forward, and treat
            their gradients as zero so that their buckets still complete. Parameters unused on every rank keep
            their ``.grad``.
        check_reduction: deprecated, ignored (``FutureWarning``).
        gradient_as_bucket_view: make each ``.grad`` a view into its bucket (no copy after the all-reduce).
        static_graph: accepted; the same as the default here (buckets keep the reverse-parameter order).
        forward_sync_buffers: broadcast buffers from rank 0 before each synchronised forward (default True).

    Example::

        >>> dist.init_process_group("gloo")
        >>> model = DistributedDataParallel(Net())
        >>> loss_fn(model(x), y).backward()   # .grad holds the average over all ranks
        >>> optimizer.step()

    State-dict keys carry the ``module.`` prefix, as in PyTorch.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        dist = _dist()
        if (delay_all_reduce_named_params is None) != (param_to_hook_all_reduce is None):
            raise ValueError("delay_all_reduce_named_params and param_to_hook_all_reduce need to be set at the same "
                             "time.")
        if delay_all_reduce_named_params is not None or mixed_precision is not None or device_mesh is not None:
            raise NotImplementedError("DistributedDataParallel: delay_all_reduce_named_params, mixed_precision and "
                                      "device_mesh are not supported by minitorch")
        if process_group is not None and device_mesh is not None:
            raise RuntimeError("Cannot specify both process_group and device_mesh arguments.")
        if process_group is None:
            dist.get_world_size()  # raises PyTorch's error when init_process_group has not run
            process_group = dist.group.WORLD
        self.process_group = process_group
        ignore = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
        self.parameters_to_ignore = ignore
        named = [(n, p) for n, p in module.named_parameters() if n not in ignore]
        if not any(p.requires_grad for _, p in named):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        types = {p.device.type for _, p in named}
        if len(types) != 1:
            raise ValueError("DistributedDataParallel's input module must be on the same type of devices, but input "
                             f"module parameters locate in {types}.")
        self.device_type = next(iter(types))
        self.is_multi_device_module = len({p.device for _, p in named}) > 1
        if not device_ids or self.device_type == "cpu" or self.is_multi_device_module:
            if device_ids or output_device:
                raise ValueError(
                    "DistributedDataParallel device_ids and output_device arguments only work with "
                    "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                    f"{device_ids}, output_device {output_device}, and module parameters "
                    f"{ {p.device for _, p in named} }.")
            self.device_ids = None
            self.output_device = None
        else:
            self.device_ids = [d if isinstance(d, int) else getattr(d, "index", d) for d in device_ids]
            self.output_device = self.device_ids[0] if output_device is None else output_device
        self.dim = dim
        self.module = module
        self.device = named[0][1].device
        if broadcast_buffers is not None:
            if forward_sync_buffers is not None:
                warnings.warn("Both `broadcast_buffers` and `forward_sync_buffers` were specified. "
                              "`broadcast_buffers` is deprecated and its value is ignored when "
                              "`forward_sync_buffers` is provided.", FutureWarning, stacklevel=2)
            else:
                warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. IMPORTANT: "
                              "unlike `broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers at "
                              "init. If you rely on buffers NOT being synced at init (e.g. rank-local buffers), keep "
                              "using `broadcast_buffers=False` until `init_sync_buffers` is available.",
                              FutureWarning, stacklevel=2)
        if forward_sync_buffers is not None:
            self.forward_sync_buffers = forward_sync_buffers
            init_sync_buffers = True
        else:
            self.forward_sync_buffers = True if broadcast_buffers is None else bool(broadcast_buffers)
            init_sync_buffers = self.forward_sync_buffers
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module is deprecated. Please "
                          "avoid using it.", FutureWarning, stacklevel=2)
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.skip_all_reduce_unused_params = skip_all_reduce_unused_params
        self.batched_grad_copy = batched_grad_copy
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.bucket_bytes_cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * _MB)
        self.broadcast_bucket_size = 250 * _MB
        self._comm_hook = None
        self._join_enabled = False
        self._join_throw = False
        self._divide_by_initial_world_size = True

        params = [(n, p) for n, p in named if p.requires_grad]
        self._param_names = [n for n, _ in params]
        self._params = [p for _, p in params]
        self.modules_buffers = [b for n, b in module.named_buffers() if n not in ignore]
        if init_sync:
            self._verify_same_model()
            _broadcast_coalesced([p for _, p in named] + (self.modules_buffers if init_sync_buffers else []),
                                 _src_rank(self.process_group, 0), self.process_group)
        # a small first bucket (1 MiB) when the size is the default, so that communication starts early
        first = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self.reducer = _Reducer(self, self._params, self._param_names, self.bucket_bytes_cap, first)
        self.reducer.div_factor = dist.get_world_size(self.process_group)

    def register_comm_hook(self, state, hook):
        """Replace the bucket all-reduce by ``hook(state, bucket) -> future`` (a ``GradBucket``; the future's
        ``wait()`` gives the reduced buffer: e.g. ``dist.all_reduce(bucket.buffer().div_(world), async_op=True)
        .get_future()``). Without a hook, buckets are divided by the world size and all-reduced. Register once,
        before the first forward."""
        if not callable(hook):
            raise TypeError("Communication hook must be callable.")
        if self._comm_hook is not None:
            raise RuntimeError("register_comm_hook or register_builtin_comm_hook can only be called once.")
        if self.reducer.iterations:
            raise RuntimeError("register_comm_hook must be called before the first backward pass.")
        self._comm_hook = (state, hook)

    # torch 2.13 keeps broadcast_buffers as a property over forward_sync_buffers
    @property
    def broadcast_buffers(self):
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value):
        self.forward_sync_buffers = value

    def _verify_same_model(self):
        """Compare (number of parameters, total size, a checksum of the shapes) across ranks before broadcasting,
        so that different models fail with a clear error instead of a wrong broadcast."""
        from ...creation import tensor
        from ... import int64
        dist = _dist()
        shapes = ";".join(f"{tuple(p.shape)}" for p in self.module.parameters())
        mine = [len(list(self.module.parameters())), sum(p.numel() for p in self.module.parameters()),
                zlib.crc32(shapes.encode())]
        size = dist.get_world_size(self.process_group)
        local = tensor(mine, dtype=int64)
        gathered = [tensor([0, 0, 0], dtype=int64) for _ in range(size)]
        dist.all_gather(gathered, local, group=self.process_group)
        rank = dist.get_rank(self.process_group)
        for r, g in enumerate(gathered):
            other = g.tolist()
            if other[0] != mine[0]:
                raise RuntimeError(f"DDP expects same model across all ranks, but Rank {rank} has {mine[0]} params, "
                                   f"while rank {r} has inconsistent {other[0]} params.")
            if other != mine:
                raise RuntimeError(f"DDP expects same model across all ranks, but the parameter shapes of rank {rank} "
                                   f"differ from those of rank {r}: {shapes}")

    # ---- forward ---------------------------------------------------------------------------------------------
    def _sync_buffers(self, joined=False):
        """Broadcast the buffers from rank 0 (under join(), from the highest rank still training)."""
        if self._join_enabled:
            src = _src_rank(self.process_group,
                            self._find_common_rank(_dist().get_rank(self.process_group), not joined))
        else:
            src = _src_rank(self.process_group, 0)
        _broadcast_coalesced(self.modules_buffers, src, self.process_group)

    def will_sync_module_buffers(self):
        return self.require_forward_param_sync and self.forward_sync_buffers and len(self.modules_buffers) > 0

    def forward(self, *inputs, **kwargs):
        self.reducer.check_finished()
        grad_sync = is_grad_enabled() and self.require_backward_grad_sync
        if self._join_enabled:
            self._notify_join()
        if self.will_sync_module_buffers():
            self._sync_buffers()
        if self._join_enabled:
            dist = _dist()
            from ...creation import ones, zeros
            flag = ones(1, device=self.device) if self.require_backward_grad_sync else zeros(1, device=self.device)
            dist.all_reduce(flag, group=self.process_group)  # tells joined ranks whether to shadow a backward
        if self.device_ids:
            from ...device import device as _device
            dev = _device(self.device_type, self.device_ids[0])
            inputs = tuple(x.to(dev) if isinstance(x, Tensor) else x for x in inputs)
            kwargs = {k: v.to(dev) if isinstance(v, Tensor) else v for k, v in kwargs.items()}
        output = self.module(*inputs, **kwargs)
        if grad_sync:
            self.require_forward_param_sync = True
            unused = set()
            if self.find_unused_parameters:
                reached = _reachable_leaves(_tensors_in(output, []))
                unused = {i for i, p in enumerate(self._params) if id(p) not in reached}
            self.reducer.prepare_for_backward(unused)
        else:
            self.require_forward_param_sync = False
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Skip the gradient all-reduce for the forward/backward passes inside: gradients accumulate locally and
        are averaged at the first synchronised backward after the block (the forward must be inside it)."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def train(self, mode=True):
        super().train(mode)
        return self

    # ---- uneven inputs -----------------------------------------------------------------------------------------
    def join(self, divide_by_initial_world_size=True, enable=True, throw_on_early_termination=False):
        """Context manager for ranks with different numbers of batches: a rank whose loop has ended shadows the
        collectives of the ranks still training (zeros for the gradient all-reduces) until every rank is done, then
        the model of the last rank to finish is broadcast to all.

        Args:
            divide_by_initial_world_size: average over the initial world size (True) or over the ranks still
                training (False).
            enable: False makes it a no-op (for code that also runs with even inputs).
            throw_on_early_termination: raise a RuntimeError on every rank as soon as one rank runs out of data.
        """
        return _Join(self, enable, throw_on_early_termination, divide_by_initial_world_size)

    def _notify_join(self):
        """Each forward under join(): count the ranks still training (the divisor when not dividing by the initial
        world size), and with throw_on_early_termination check that none has stopped."""
        dist = _dist()
        from ...creation import ones, zeros
        count = ones(1, device=self.device)
        work = dist.all_reduce(count, group=self.process_group, async_op=True)
        initial = dist.get_world_size(self.process_group) if self._divide_by_initial_world_size else None
        self.reducer.join_div_work = (work, count, initial)
        if self._join_throw:
            flag = zeros(1, device=self.device)
            dist.all_reduce(flag, group=self.process_group)
            if flag.item() > 0:
                raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")

    def _find_common_rank(self, rank, candidate):
        dist = _dist()
        from ...creation import tensor
        t = tensor([rank if candidate else -1], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX, group=self.process_group)
        r = int(t.item())
        if r == -1:
            raise ValueError("BUG! Expected rank_cond to be true for at least one process. This indicates a bug in "
                             "PyTorch, please report an issue.")
        return r

    def _shadow_iteration(self):
        """What a joined rank does for one iteration of the ranks still training (their forward and backward)."""
        dist = _dist()
        from ...creation import zeros
        if self.will_sync_module_buffers():
            self._sync_buffers(joined=True)
        flag = zeros(1, device=self.device)
        dist.all_reduce(flag, group=self.process_group)
        should_sync = flag.item() != 0
        self.require_forward_param_sync = should_sync
        if not should_sync:
            return
        zeros_buckets = self.reducer.zeros_like_buckets()  # alive until the all-reduces are done
        if self._comm_hook is not None:  # the ranks still training run the hook on each bucket: so does this one
            state, hook = self._comm_hook
            n = len(zeros_buckets)
            works = [hook(state, GradBucket(_ZeroBucket(k, z, b), k == n - 1))
                     for k, (z, b) in enumerate(zip(zeros_buckets, self.reducer.buckets))]
        else:
            works = [dist.all_reduce(z, group=self.process_group, async_op=True) for z in zeros_buckets]
        for w in works:
            w.wait()
        if self.find_unused_parameters:
            from ... import int32
            used = zeros(len(self._params), dtype=int32, device=self.device)
            dist.all_reduce(used, group=self.process_group)

    def _sync_final_model(self, is_last_joiner):
        src = _src_rank(self.process_group,
                        self._find_common_rank(_dist().get_rank(self.process_group), is_last_joiner))
        named = [p for n, p in self.module.named_parameters() if n not in self.parameters_to_ignore]
        _broadcast_coalesced(named + (self.modules_buffers if self.forward_sync_buffers else []), src,
                             self.process_group)


class _Join:
    """The ``DistributedDataParallel.join()`` context (PyTorch's generic Join, for one DDP model)."""

    def __init__(self, ddp, enable, throw, divide_by_initial_world_size):
        self.ddp, self.enable, self.throw = ddp, enable, throw
        self.divide = divide_by_initial_world_size

    def __enter__(self):
        if self.enable:
            self.ddp._join_enabled = True
            self.ddp._join_throw = self.throw
            self.ddp._divide_by_initial_world_size = self.divide
        return self

    def __exit__(self, exc_type, exc, tb):
        ddp = self.ddp
        if not self.enable:
            return None
        try:
            if exc_type is not None:
                return None  # the error propagates; the other ranks see this rank die
            dist = _dist()
            from ...creation import ones, zeros
            is_last_joiner = True
            while True:
                count = zeros(1, device=ddp.device)
                dist.all_reduce(count, group=ddp.process_group)
                if count.item() == 0:
                    break
                if self.throw:
                    dist.all_reduce(ones(1, device=ddp.device), group=ddp.process_group)
                    raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")
                ddp._shadow_iteration()
                is_last_joiner = False
            ddp._sync_final_model(is_last_joiner)
        finally:
            ddp._join_enabled = False
            ddp._join_throw = False
            ddp.reducer.div_factor = _dist().get_world_size(ddp.process_group)
        return None
