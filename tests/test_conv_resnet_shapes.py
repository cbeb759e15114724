"""conv2d's image-chunked GEMM path (images with few output positions run several to one GEMM) and the in-kernel
sum of the per-thread weight/bias gradients: forward and every gradient against PyTorch, with uneven chunks, groups,
strides, 1x1 and 7x7 kernels, partial gradient needs, at one and two threads."""
import numpy as np
import pytest

import minitorch

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

CASES = [  # x shape, (O, k), stride, padding, groups, bias
    ((5, 4, 7, 7), (6, 3), 1, 1, 1, True),      # 49 positions: chunks of several images, 5 over 2 threads
    ((3, 4, 9, 9), (8, 1), 2, 0, 1, False),     # 1x1 stride-2 downsample
    ((4, 6, 6, 6), (4, 3), 2, 1, 2, True),      # groups
    ((2, 3, 20, 20), (5, 7), 2, 3, 1, False),   # 7x7 stride 2 (the stem)
    ((2, 3, 18, 18), (4, 3), 1, 1, 1, True),    # 324 positions: one image per GEMM
    ((1, 2, 5, 5), (3, 3), 1, 0, 1, True),      # fewer images than threads
]


def _run(lib, x, w, b, gy, stride, pad, groups, need, device):
    dev = {} if lib is torch else {"device": device}
    xx = lib.tensor(x, **dev).requires_grad_(need[0])
    ww = lib.tensor(w, **dev).requires_grad_(need[1])
    bb = lib.tensor(b, **dev).requires_grad_(need[2]) if b is not None else None
    out = lib.nn.functional.conv2d(xx, ww, bb, stride, pad, 1, groups)
    out.backward(lib.tensor(gy, **dev))
    res = [out.detach()] + [t.grad if t is not None and t.requires_grad else None for t in (xx, ww, bb)]
    return [None if t is None else t.cpu().numpy() for t in res]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("need", [(True, True, True), (False, True, True), (True, False, False)])
def test_conv2d_chunked_matches_torch(device, case, threads, need):
    if device != "cpu" and (threads > 1 or need != (True, True, True)):
        pytest.skip("threads and the partial-gradient chunking are the CPU kernel's; one case each on the GPU")
    xs, (O, k), stride, pad, groups, bias = case
    rng = np.random.default_rng(sum(xs) + O)
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal((O, xs[1] // groups, k, k)).astype(np.float32)
    b = rng.standard_normal(O).astype(np.float32) if bias else None
    oh = (xs[2] + 2 * pad - k) // stride + 1
    gy = rng.standard_normal((xs[0], O, oh, oh)).astype(np.float32)
    old = minitorch.get_num_threads()
    minitorch.set_num_threads(min(threads, old))
    try:
        got = _run(minitorch, x, w, b, gy, stride, pad, groups, need, device)
    finally:
        minitorch.set_num_threads(old)
    ref = _run(torch, x, w, b, gy, stride, pad, groups, need, device)
    for u, v in zip(got, ref):
        assert (u is None) == (v is None)
        if u is not None:
            np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-4)


def test_conv2d_weight_grad_is_not_a_view(device):
    x = minitorch.randn(4, 2, 5, 5, device=device)
    w = minitorch.randn(3, 2, 3, 3, device=device).requires_grad_()
    minitorch.nn.functional.conv2d(x, w).sum().backward()
    assert w.grad.shape == w.shape and w.grad._base is None and w.grad.is_contiguous()
