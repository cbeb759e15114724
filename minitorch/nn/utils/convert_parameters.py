"""Flatten parameters into one vector and back."""
from ...autograd.grad_mode import no_grad


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, flattened, in order."""
    from ... import cat
    params = list(parameters)
    dev = params[0].device if params else None
    for p in params:
        if p.device != dev:
            raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of ``vec`` into the parameters."""
    from ...tensor import Tensor
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    offset = 0
    with no_grad():
        for p in parameters:
            n = p.numel()
            p.copy_(vec[offset:offset + n].view_as(p))
            offset += n
