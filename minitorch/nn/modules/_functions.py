"""Autograd functions of nn layers that talk to other processes: ``SyncBatchNormFunction`` (batch statistics over
every rank of a process group)."""
from ...autograd.function import Function, once_differentiable
from ...autograd.grad_mode import no_grad
from ...dtypes import float64


def _all_reduce(t, group):
    from ... import distributed as dist
    dist.all_reduce(t, group=group)
    return t


class SyncBatchNormFunction(Function):
    """(x, weight, bias, eps, group) -> (out, mean, unbiased variance) with the statistics of the whole batch over
    the group (the two statistics are non-differentiable outputs for the running estimates).

    Forward: each rank's per-channel count, sum and sum of squares about its own mean (in float64) are summed over
    the group with one all-reduce and combined into the mean and variance of the whole batch. Backward: the
    per-channel sums of the output gradient and of its product with the normalised input are summed over the group
    (one all-reduce) so each rank's input gradient is that of the whole batch; the weight and bias gradients stay
    local (DistributedDataParallel averages them like every other parameter gradient).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, eps, group):
        from ...ops.shape import cat
        C = x.shape[1]
        dims = (0,) + tuple(range(2, x.dim()))
        shape = (1, C) + (1,) * (x.dim() - 2)
        n = x.numel() // C if C else 0
        xd = x.to(float64)
        if n:
            local_mean = xd.mean(dims)
            centred = xd - local_mean.reshape(shape)
            m2 = (centred * centred).sum(dims)
        else:
            local_mean = xd.new_zeros(C)
            m2 = xd.new_zeros(C)
        # sum of squares about 0 rebuilt from the local two-pass statistics: exact enough in float64
        stats = cat([xd.new_full((1,), float(n)), local_mean * n, m2 + local_mean * local_mean * n])
        _all_reduce(stats, group)
        count = stats[0].item()
        mean = stats[1:C + 1] / count
        var = (stats[C + 1:] / count - mean * mean).clamp(min=0)
        invstd = (var + eps).rsqrt()
        xhat = ((xd - mean.reshape(shape)) * invstd.reshape(shape)).to(x.dtype)
        out = xhat
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape)
        ctx.save_for_backward(xhat, weight, invstd.to(x.dtype))
        ctx.group, ctx.count = group, count
        mean_o, var_o = mean.to(x.dtype), (var * (count / max(count - 1, 1))).to(x.dtype)
        ctx.mark_non_differentiable(mean_o, var_o)
        return out, mean_o, var_o

    @staticmethod
    @once_differentiable
    def backward(ctx, g, *_):
        from ...ops.shape import cat
        xhat, weight, invstd = ctx.saved_tensors
        C = xhat.shape[1]
        dims = (0,) + tuple(range(2, xhat.dim()))
        shape = (1, C) + (1,) * (xhat.dim() - 2)
        with no_grad():
            sum_dy = g.sum(dims)
            sum_dy_xhat = (g * xhat).sum(dims)
            need_w = weight is not None and ctx.needs_input_grad[1]
            need_b = ctx.needs_input_grad[2]
            dw = sum_dy_xhat.clone() if need_w else None
            db = sum_dy.clone() if need_b else None
            dx = None
            if ctx.needs_input_grad[0]:
                both = _all_reduce(cat([sum_dy, sum_dy_xhat]).to(float64), ctx.group)
                mean_dy = (both[:C] / ctx.count).to(g.dtype).reshape(shape)
                mean_dy_xhat = (both[C:] / ctx.count).to(g.dtype).reshape(shape)
                scale = invstd if weight is None else invstd * weight
                dx = (g - mean_dy - xhat * mean_dy_xhat) * scale.reshape(shape)
        return dx, dw, db, None, None
