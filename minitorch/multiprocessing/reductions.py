"""How tensors cross process boundaries: ``multiprocessing``'s pickler sends shared storages, never copies.

``init_reductions()`` registers a reducer for ``Tensor`` and ``nn.Parameter`` with
``multiprocessing.reduction.ForkingPickler`` (what ``Queue``, ``Pipe`` and spawned ``Process`` arguments use;
plain ``pickle`` and ``minitorch.save`` still copy the data). A CPU tensor's storage moves into shared memory first
if it is not there yet, as PyTorch does, and the receiver maps the same memory: writes on either side are seen by
the other. Views keep their shape, strides and offset; ``requires_grad`` travels, ``.grad`` does not.
"""
from multiprocessing.reduction import ForkingPickler

from . import _shared_memory as _shm


def _rebuild_tensor(cls, storage, meta):
    from ..device import CPU
    from ..dtypes import _by_name
    from ..tensor import _make
    shape, stride, offset, dtype_name, requires_grad = meta
    t = _make(storage, shape, stride, offset, _by_name(dtype_name), CPU)
    if cls is not None:
        from ..nn.parameter import Parameter
        if cls is Parameter:
            return Parameter(t, requires_grad)
    t._requires_grad = requires_grad
    return t


def reduce_tensor(t):
    if t._device.type != "cpu":
        raise RuntimeError(
            f"minitorch cannot share {t._device.type} tensors between processes: move the tensor to the CPU "
            "(tensor.cpu()) before sending it, or send it with plain pickle to copy it")
    if t._requires_grad and t._grad_fn is not None:
        raise RuntimeError(
            "Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd does not support "
            "crossing process boundaries. If you just want to transfer the data, call detach() on the tensor "
            "before serializing (e.g., putting it on the queue).")
    if not _shm.is_shared(t._storage):
        _shm.share_tensors_([t])
    rebuild, args = _shm.reduce_storage(t._storage)
    from ..nn.parameter import Parameter
    cls = Parameter if type(t) is Parameter else None
    meta = (t._shape, t._stride, t._offset, t._dtype.name, t._requires_grad)
    return _rebuild_tensor, (cls, _Storage(rebuild, args), meta)


class _Storage:
    """Pickles as the call that maps the storage in the receiver."""

    def __init__(self, rebuild, args):
        self.rebuild, self.args = rebuild, args

    def __reduce__(self):
        return self.rebuild, self.args


def init_reductions():
    from ..nn.parameter import Parameter
    from ..tensor import Tensor
    for cls in (Tensor, Parameter):
        ForkingPickler.register(cls, reduce_tensor)
