"""Numerical gradient checks by central differences (use float64 inputs)."""
import numpy as np

from ..tensor import Tensor


class GradcheckError(RuntimeError):
    pass


def _flat_outputs(out):
    return (out,) if isinstance(out, Tensor) else tuple(o for o in out if isinstance(o, Tensor))


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, fast_mode=False, **_ignored):
    """Compare analytical gradients of ``func(*inputs)`` with central differences; True if they match."""
    from .engine import grad as autograd_grad
    from ..creation import tensor
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in diff:
        if inputs[i].dtype.name != "float64":
            import warnings
            warnings.warn("Input #%d requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision." % i)
    outputs = _flat_outputs(func(*inputs))
    for oi, out in enumerate(outputs):
        if not out.dtype.is_floating_point:
            continue
        n_out = out.numel()
        # analytical Jacobian rows, one vector-Jacobian product per output element
        analytical = {i: np.zeros((inputs[i].numel(), n_out)) for i in diff}
        for k in range(n_out):
            go = np.zeros(n_out)
            go[k] = 1.0
            g_out = tensor(go.reshape(out.shape), dtype=out.dtype, device=out.device)
            if not out.requires_grad:
                continue
            grads = autograd_grad(out, [inputs[i] for i in diff], g_out, retain_graph=True, allow_unused=True)
            for i, g in zip(diff, grads):
                if g is not None:
                    analytical[i][:, k] = g.detach().cpu().numpy().reshape(-1)
        for i in diff:
            x = inputs[i]
            numerical = np.zeros((x.numel(), n_out))
            base = x.detach().cpu().numpy().copy()
            flat = base.reshape(-1)
            for j in range(x.numel()):
                orig = flat[j]
                vals = []
                for step in (eps, -eps):
                    flat[j] = orig + step
                    x.data = tensor(base, dtype=x.dtype, device=x.device)
                    o = _flat_outputs(func(*inputs))[oi]
                    vals.append(o.detach().cpu().numpy().astype(np.float64).reshape(-1))
                flat[j] = orig
                x.data = tensor(base, dtype=x.dtype, device=x.device)
                numerical[j] = (vals[0] - vals[1]) / (2 * eps)
            if not np.allclose(analytical[i], numerical, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(
                        f"Jacobian mismatch for output {oi} with respect to input {i},\n"
                        f"numerical:{numerical}\nanalytical:{analytical[i]}\n")
                return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0, check_undefined_grad=True,
                  check_grad_dtypes=False, check_batched_grad=False, check_fwd_over_rev=False,
                  check_rev_over_rev=True, fast_mode=False, masked=False):
    """Second derivatives by central differences: gradcheck of ``(inputs, v) -> d(v . func)/d(inputs)``, whose
    analytical Jacobian is the double backward. ``grad_outputs`` default to random float64 vectors."""
    from .engine import grad as autograd_grad
    from ..creation import randn
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    if grad_outputs is None:
        outs = [o for o in _flat_outputs(func(*inputs)) if o.dtype.is_floating_point and o.requires_grad]
        grad_outputs = tuple(randn(o.shape, dtype=o.dtype, device=o.device).requires_grad_(True) for o in outs)
    else:
        grad_outputs = (grad_outputs,) if isinstance(grad_outputs, Tensor) else tuple(grad_outputs)
    n_go = len(grad_outputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def first_derivatives(*args):
        inp, gos = args[:-n_go] if n_go else args, args[len(args) - n_go:]
        outs = [o for o in _flat_outputs(func(*inp)) if o.dtype.is_floating_point and o.requires_grad]
        grads = autograd_grad(outs, [inp[i] for i in diff], gos, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol)
