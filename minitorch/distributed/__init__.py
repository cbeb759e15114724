"""``minitorch.distributed``: PyTorch's ``torch.distributed`` on MPI (through mpi4py).

Install the engine with ``pip install "minitorch-jit[distributed]"`` (mpi4py and the mpich wheel; a system MPI
that mpi4py was built against works too). Importing this package never imports mpi4py: MPI starts in
``init_process_group``. Start the processes with ``python -m minitorch.distributed.run --nproc-per-node N
script.py`` (torchrun's flags and environment) or ``mpiexec -n N python script.py``.

Backends: ``"mpi"`` is the engine; ``"gloo"`` and ``"nccl"`` (PyTorch's names) select the same MPI transport, so
PyTorch programs run unchanged. CUDA tensors are staged through host memory. See ``distributed_c10d`` for the
arrival check, timeouts and errors.
"""
from .distributed_c10d import (  # noqa: F401
    Backend, DistBackendError, DistError, GroupMember, ProcessGroup, ReduceOp, Work, all_gather, all_gather_into_tensor,
    all_gather_object, all_reduce, all_to_all, all_to_all_single, barrier, broadcast, broadcast_object_list,
    default_pg_timeout, destroy_process_group, gather, gather_object, get_backend, get_default_backend_for_device,
    get_global_rank, get_group_rank, get_process_group_ranks, get_rank, get_world_size, group, init_process_group,
    irecv, is_available, is_gloo_available, is_initialized, is_mpi_available, is_nccl_available,
    is_torchelastic_launched, isend, monitored_barrier, new_group, recv, reduce, reduce_scatter, reduce_scatter_tensor,
    scatter, scatter_object_list, send,
)
from .distributed_c10d import (  # noqa: F401
    P2POp, batch_isend_irecv, get_node_local_rank, is_backend_available, recv_object_list, send_object_list,
)
from .distributed_c10d import __all__  # noqa: F401
