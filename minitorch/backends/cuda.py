"""``minitorch.backends.cuda``: the CUDA matmul switches PyTorch programs set (minitorch never uses TF32 or reduced
precision accumulation, so they change nothing)."""


class _MatmulFlags:
    def __init__(self):
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built():
    """True when minitorch's CUDA kernels can run here (a GPU with Numba's CUDA support, or its simulator)."""
    from .. import dispatch
    return "cuda" in dispatch.available()
