"""Cross-channel local response normalisation of the legacy ``nn.CrossMapLRN2d`` (a composite Function).

Its forward keeps the running-sum window of the original Lua implementation (for channels past the first
``(size - 1) // 2 + 2`` the sum keeps channel 0 and drops the window's first channel), and its backward is the
closed form for the centred window; both are reproduced as they are, so numbers match PyTorch's layer.
"""
from ..autograd.function import Function


def _window_matrix(C, rows, like):
    """(C, C) 0/1 matrix whose row c selects the channels rows(c)."""
    from ..creation import tensor
    m = [[0.0] * C for _ in range(C)]
    for c in range(C):
        for j in rows(c):
            if 0 <= j < C:
                m[c][j] = 1.0
    return tensor(m, dtype=like.dtype, device=like.device)


def _mix(m, t):
    """Channel mixing m @ t over dim 1 of (N, C, H, W)."""
    N, C, H, W = t.shape
    return m.matmul(t.reshape(N, C, H * W)).reshape(N, C, H, W)


class CrossMapLRN2d(Function):
    @staticmethod
    def forward(ctx, x, size, alpha, beta, k):
        C = x.shape[1]
        pre = int((size - 1) / 2 + 1)

        def fwd(c):
            top = min(c + pre - 1, C - 1)
            if c <= pre:
                return range(0, top + 1)
            return [0] + list(range(c - pre + 1, top + 1))
        scale = _mix(_window_matrix(C, fwd, x), x * x) * (alpha / size) + k
        out = scale.pow(-beta) * x
        ctx.save_for_backward(x, out, scale)
        ctx.conf = (size, alpha, beta)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out, scale = ctx.saved_tensors
        size, alpha, beta = ctx.conf
        C = x.shape[1]
        inv = int(size - (size - 1) / 2)
        ratio = g * out / scale
        acc = _mix(_window_matrix(C, lambda c: range(c - inv, c + size - inv), x), ratio)
        return scale.pow(-beta) * g - x * acc * (2 * alpha * beta / size), None, None, None, None


def cross_map_lrn2d(input, size, alpha=1e-4, beta=0.75, k=1):
    """Legacy cross-channel LRN of (N, C, H, W) input (``nn.CrossMapLRN2d``)."""
    if input.dim() != 4:
        raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
    return CrossMapLRN2d.apply(input, size, alpha, beta, k)
