"""Colour transforms, augmentation policies and transforms.v2 of minitorch.vision.transforms.

Tensor results are checked against torchvision's documented formulas evaluated with PyTorch (blends with black, the
grayscale image, the mean grey level, a 3x3 smoothing filter), against colorsys for hue, and against Pillow
(ImageEnhance / ImageOps), which torchvision itself calls for PIL images.
"""
import colorsys

import numpy as np
import pytest

import minitorch
from minitorch.vision import transforms as T
from minitorch.vision.transforms import functional as F
from minitorch.vision.transforms import v2
from minitorch.vision.transforms.v2 import functional as F2

Image = pytest.importorskip("PIL.Image")
from PIL import ImageEnhance, ImageOps  # noqa: E402


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def rgb_u8(shape=(3, 17, 23), seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def rgb_f32(shape=(3, 17, 23), seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def mt(a):
    return minitorch.from_numpy(np.ascontiguousarray(a))


def pil_of(chw):
    return Image.fromarray(np.ascontiguousarray(chw.transpose(1, 2, 0)) if chw.shape[0] == 3 else chw[0])


def chw_of(pil):
    a = np.asarray(pil)
    return a.transpose(2, 0, 1) if a.ndim == 3 else a[None]


# ----------------------------------------------------------------------------------------------------------------
# tensor formulas, evaluated with PyTorch (float32 arithmetic, truncation back to uint8, as torchvision's tensors)
# ----------------------------------------------------------------------------------------------------------------
def t_blend(torch, a, b, ratio):
    bound = 1.0 if a.is_floating_point() else 255.0
    return (ratio * a + (1.0 - ratio) * b).clamp(0, bound).to(a.dtype)


def t_gray(torch, a):
    r, g, b = a.unbind(dim=-3)
    return (0.2989 * r + 0.587 * g + 0.114 * b).to(a.dtype).unsqueeze(-3)


@pytest.mark.torch
@pytest.mark.parametrize("make", [rgb_u8, rgb_f32])
@pytest.mark.parametrize("shape", [(3, 9, 11), (2, 3, 9, 11), (1, 9, 11)])
def test_brightness_saturation_grayscale_follow_the_blend_formulas(torch, make, shape):
    a = make(shape)
    x, tx = mt(a), torch.from_numpy(a)
    for factor in (0.0, 0.4, 1.0, 1.7):
        got = F.adjust_brightness(x, factor).numpy()
        np.testing.assert_array_equal(got, t_blend(torch, tx, torch.zeros_like(tx), factor).numpy())
        got = F.adjust_saturation(x, factor).numpy()
        want = a if shape[-3] == 1 else t_blend(torch, tx, t_gray(torch, tx), factor).numpy()
        np.testing.assert_array_equal(got, want)
        assert got.dtype == a.dtype
    if shape[-3] == 3:
        np.testing.assert_array_equal(F.rgb_to_grayscale(x).numpy(), t_gray(torch, tx).numpy())
        three = F.rgb_to_grayscale(x, num_output_channels=3).numpy()
        assert three.shape == a.shape
        np.testing.assert_array_equal(three, np.broadcast_to(t_gray(torch, tx).numpy(), a.shape))


@pytest.mark.torch
@pytest.mark.parametrize("make", [rgb_u8, rgb_f32])
@pytest.mark.parametrize("shape", [(3, 9, 11), (2, 3, 9, 11), (1, 9, 11)])
def test_contrast_blends_with_the_mean_grey_level_per_image(torch, make, shape):
    a = make(shape)
    x, tx = mt(a), torch.from_numpy(a)
    gray = t_gray(torch, tx) if shape[-3] == 3 else tx
    mean = gray.to(torch.float32 if not tx.is_floating_point() else tx.dtype).mean(dim=(-3, -2, -1), keepdim=True)
    for factor in (0.0, 0.5, 1.3):
        got = F.adjust_contrast(x, factor).numpy().astype(np.float64)
        want = t_blend(torch, tx, mean, factor).numpy().astype(np.float64)
        # the mean is summed in float64 here, in float32 by PyTorch: at most one truncation step apart
        tol = 1.0 if a.dtype == np.uint8 else 1e-6
        assert np.abs(got - want).max() <= tol
        if a.dtype == np.uint8:
            assert (got != want).mean() < 0.02


@pytest.mark.torch
@pytest.mark.parametrize("make", [rgb_u8, rgb_f32])
def test_sharpness_blends_with_the_smoothing_filter_inside_the_border(torch, make):
    a = make((2, 3, 8, 10))
    x, tx = mt(a), torch.from_numpy(a)
    kernel = torch.ones(3, 3)
    kernel[1, 1] = 5.0
    kernel = (kernel / kernel.sum()).expand(3, 1, 3, 3)
    smooth = torch.nn.functional.conv2d(tx.float(), kernel, groups=3)
    if not tx.is_floating_point():
        smooth = smooth.round()
    degenerate = tx.clone()
    degenerate[..., 1:-1, 1:-1] = smooth.to(tx.dtype)
    for factor in (0.0, 0.5, 2.0):
        got = F.adjust_sharpness(x, factor).numpy().astype(np.float64)
        want = t_blend(torch, tx, degenerate, factor).numpy().astype(np.float64)
        assert np.abs(got - want).max() <= (1.0 if a.dtype == np.uint8 else 1e-6)
        if a.dtype == np.uint8:  # the filter sums in a different order: rare rounding ties
            assert (got != want).mean() < 0.01
    tiny = mt(make((3, 2, 5)))
    assert F.adjust_sharpness(tiny, 3.0) is tiny  # too small to filter: returned as is


@pytest.mark.torch
def test_gamma_autocontrast_invert_solarize_posterize_formulas(torch):
    a = rgb_u8((2, 3, 9, 11))
    a[0, 1] = 77  # a constant channel: autocontrast leaves it alone
    x, tx = mt(a), torch.from_numpy(a)
    f = tx.float() / 255
    for gamma, gain in ((0.5, 1.0), (2.2, 0.8)):
        want = ((gain * f ** gamma).clamp(0, 1) * (256 - 1e-3)).to(torch.uint8)
        np.testing.assert_array_equal(F.adjust_gamma(x, gamma, gain).numpy(), want.numpy())
    lo = tx.amin(dim=(-2, -1), keepdim=True).float()
    hi = tx.amax(dim=(-2, -1), keepdim=True).float()
    scale = 255.0 / (hi - lo)
    flat = ~torch.isfinite(scale)
    lo[flat], scale[flat] = 0, 1
    np.testing.assert_array_equal(F.autocontrast(x).numpy(), ((tx - lo) * scale).clamp(0, 255).to(torch.uint8))
    np.testing.assert_array_equal(F.invert(x).numpy(), 255 - a)
    np.testing.assert_array_equal(F.solarize(x, 128).numpy(), np.where(a >= 128, 255 - a, a))
    for bits in range(9):
        np.testing.assert_array_equal(F.posterize(x, bits).numpy(), a & (0xFF << (8 - bits) & 0xFF))
    b = rgb_f32((3, 5, 6))
    np.testing.assert_allclose(F.invert(mt(b)).numpy(), 1 - b, atol=1e-7)
    np.testing.assert_array_equal(F.solarize(mt(b), 0.5).numpy(), np.where(b >= 0.5, 1 - b, b).astype(np.float32))
    np.testing.assert_allclose(F.adjust_gamma(mt(b), 0.7).numpy(), np.clip(b ** 0.7, 0, 1), rtol=1e-6)


def test_hue_matches_colorsys_and_round_trips():
    a = rgb_f32((3, 6, 7), seed=3).astype(np.float64)
    for factor in (-0.5, -0.2, 0.0, 0.13, 0.5):
        got = F.adjust_hue(mt(a), factor).numpy()
        want = np.empty_like(a)
        for i in range(a.shape[1]):
            for j in range(a.shape[2]):
                h, s, v = colorsys.rgb_to_hsv(*a[:, i, j])
                want[:, i, j] = colorsys.hsv_to_rgb((h + factor) % 1.0, s, v)
        np.testing.assert_allclose(got, want, atol=1e-6)
    f = rgb_f32((2, 3, 8, 9), seed=4)
    back = F.adjust_hue(F.adjust_hue(mt(f), 0.3), -0.3).numpy()
    np.testing.assert_allclose(back, f, atol=1e-5)
    u = rgb_u8((3, 8, 9), seed=5)
    back = F.adjust_hue(F.adjust_hue(mt(u), 0.25), -0.25).numpy().astype(int)
    assert np.abs(back - u).max() <= 3
    gray = mt(rgb_u8((1, 4, 4)))
    assert F.adjust_hue(gray, 0.2) is gray


def test_equalize_matches_imageops_per_image_and_channel():
    rng = np.random.default_rng(7)
    a = np.stack([rng.integers(0, 256, (3, 16, 12)), rng.integers(40, 90, (3, 16, 12))]).astype(np.uint8)
    a[1, 2] = 9  # constant channel
    a[1, 1, :8] = 200  # two-valued channel
    a[1, 1, 8:] = 10
    got = F.equalize(mt(a)).numpy()
    for n in range(2):
        np.testing.assert_array_equal(got[n], chw_of(ImageOps.equalize(pil_of(a[n]))))
        np.testing.assert_array_equal(chw_of(F.equalize(pil_of(a[n]))), got[n])
    gray = a[0, :1]
    np.testing.assert_array_equal(F.equalize(mt(gray)).numpy(), chw_of(ImageOps.equalize(pil_of(gray))))


@pytest.mark.parametrize("shape", [(3, 15, 13), (1, 15, 13)])
def test_tensor_and_pil_agree(shape):
    a = rgb_u8(shape, seed=11)
    x, pil = mt(a), pil_of(a)
    exact = [(F.adjust_brightness, (1.4,)), (F.adjust_brightness, (0.3,)), (F.adjust_sharpness, (2.0,)),
             (F.adjust_sharpness, (0.2,)), (F.adjust_gamma, (0.6,)), (F.invert, ()), (F.posterize, (3,)),
             (F.solarize, (100,)), (F.autocontrast, ()), (F.equalize, ())]
    for fn, args in exact:
        np.testing.assert_array_equal(fn(x, *args).numpy(), chw_of(fn(pil, *args)), err_msg=fn.__name__)
    # Pillow rounds where the tensor formulas truncate (and its grayscale weights are 0.299/0.587/0.114)
    within_one = [(F.adjust_contrast, (0.5,)), (F.adjust_contrast, (1.6,)), (F.adjust_saturation, (0.3,)),
                  (F.adjust_saturation, (1.5,)), (F.rgb_to_grayscale, ())]
    for fn, args in within_one:
        diff = np.abs(fn(x, *args).numpy().astype(int) - chw_of(fn(pil, *args)).astype(int))
        assert diff.max() <= 1, fn.__name__
    # Pillow holds hue in 1/255 turns, the tensor path exactly
    diff = np.abs(F.adjust_hue(x, 0.21).numpy().astype(int) - chw_of(F.adjust_hue(pil, 0.21)).astype(int))
    assert diff.mean() < 2.0 and diff.max() <= 16
    # the functions also call Pillow itself for PIL images
    assert np.array_equal(np.asarray(F.adjust_contrast(pil, 0.5)), np.asarray(ImageEnhance.Contrast(pil).enhance(0.5)))
    assert np.array_equal(np.asarray(F.autocontrast(pil)), np.asarray(ImageOps.autocontrast(pil)))


def test_pil_grayscale_and_hue_on_gray_images():
    a = rgb_u8((3, 6, 5))
    pil = pil_of(a)
    g1, g3 = F.to_grayscale(pil), F.to_grayscale(pil, num_output_channels=3)
    assert g1.mode == "L" and g3.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(g1), np.asarray(pil.convert("L")))
    np.testing.assert_array_equal(np.asarray(g3)[..., 2], np.asarray(pil.convert("L")))
    np.testing.assert_array_equal(np.asarray(F.rgb_to_grayscale(pil)), np.asarray(g1))
    assert F.adjust_hue(g1, 0.3) is g1
    assert F.adjust_gamma(g1, 2.0).mode == "L"


def test_numpy_hwc_images_follow_the_tensor_path():
    a = rgb_u8((3, 7, 8))
    hwc = np.ascontiguousarray(a.transpose(1, 2, 0))
    for fn, args in ((F.adjust_brightness, (1.5,)), (F.adjust_contrast, (0.5,)), (F.equalize, ()),
                     (F.adjust_hue, (0.1,)), (F.posterize, (2,))):
        out = fn(hwc, *args)
        assert isinstance(out, np.ndarray)
        np.testing.assert_array_equal(out.transpose(2, 0, 1), fn(mt(a), *args).numpy())


def test_functional_errors():
    x, f = mt(rgb_u8((3, 5, 5))), mt(rgb_f32((3, 5, 5)))
    for fn, name in ((F.adjust_brightness, "brightness_factor"), (F.adjust_contrast, "contrast_factor"),
                     (F.adjust_saturation, "saturation_factor"), (F.adjust_sharpness, "sharpness_factor")):
        with pytest.raises(ValueError, match=rf"{name} \(-0.5\) is not non-negative."):
            fn(x, -0.5)
    with pytest.raises(ValueError, match=r"hue_factor \(0.7\) is not in \[-0.5, 0.5\]."):
        F.adjust_hue(x, 0.7)
    with pytest.raises(ValueError, match="Gamma should be a non-negative real number"):
        F.adjust_gamma(x, -1)
    with pytest.raises(ValueError, match="Gamma should be a non-negative real number"):
        F.adjust_gamma(pil_of(rgb_u8()), -1)
    with pytest.raises(ValueError, match="The number if bits should be between 0 and 8. Got 9"):
        F.posterize(x, 9)
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported, but found minitorch.float32"):
        F.posterize(f, 3)
    with pytest.raises(TypeError, match="Only torch.uint8 image tensors are supported, but found minitorch.float32"):
        F.equalize(f)
    with pytest.raises(TypeError, match="Threshold should be less than bound of img."):
        F.solarize(f, 2.0)
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 2"):
        F.adjust_brightness(mt(rgb_u8((2, 4, 4))), 1.2)
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 4"):
        F.invert(mt(rgb_u8((4, 4, 4))))
    with pytest.raises(TypeError, match="Input image tensor should have at least 3 dimensions, but found 2"):
        F.invert(mt(rgb_u8((4, 4))))
    with pytest.raises(TypeError, match="Input image tensor should have at least 3 dimensions, but found 2"):
        F.rgb_to_grayscale(mt(rgb_u8((4, 4))))
    with pytest.raises(TypeError, match="Tensor is not a torch image."):
        F.adjust_brightness(minitorch.zeros(4), 1.0)
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.rgb_to_grayscale(x, num_output_channels=2)
    with pytest.raises(ValueError, match="num_output_channels should be either 1 or 3"):
        F.to_grayscale(pil_of(rgb_u8()), num_output_channels=2)
    with pytest.raises(TypeError, match="Input should be PIL Image"):
        F.to_grayscale(x)
    with pytest.raises(TypeError, match="img should be PIL Image. Got <class 'list'>"):
        F.adjust_brightness([1, 2], 1.0)
    with pytest.raises(TypeError, match="img should be PIL Image. Got <class 'str'>"):
        F.equalize("img")


# ----------------------------------------------------------------------------------------------------------------
# classes
# ----------------------------------------------------------------------------------------------------------------
def test_color_jitter_ranges_and_checks():
    cj = T.ColorJitter(brightness=0.5, contrast=(0.2, 1.8), saturation=2, hue=0.1)
    assert cj.brightness == (0.5, 1.5) and cj.contrast == (0.2, 1.8)
    assert cj.saturation == (0.0, 3.0) and cj.hue == (-0.1, 0.1)
    plain = T.ColorJitter()
    assert plain.brightness is None and plain.hue is None
    assert T.ColorJitter(brightness=(1, 1)).brightness is None
    assert repr(cj) == "ColorJitter(brightness=(0.5, 1.5), contrast=(0.2, 1.8), saturation=(0.0, 3.0), hue=(-0.1, 0.1))"
    with pytest.raises(ValueError, match="If brightness is a single number, it must be non negative."):
        T.ColorJitter(brightness=-1)
    with pytest.raises(TypeError, match="contrast should be a single number or a list/tuple with length 2."):
        T.ColorJitter(contrast=[1, 2, 3])
    with pytest.raises(ValueError, match=r"hue values should be between \(-0.5, 0.5\), but got \[-0.6, 0.6\]."):
        T.ColorJitter(hue=0.6)
    with pytest.raises(ValueError, match=r"saturation values should be between \(0, inf\), but got \[2.0, 1.0\]."):
        T.ColorJitter(saturation=(2, 1))


def test_color_jitter_draws_in_torchvisions_order():
    cj = T.ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.2)
    a = rgb_u8((3, 8, 8), seed=2)
    for seed in range(4):
        minitorch.manual_seed(seed)
        order = minitorch.randperm(4).tolist()
        factors = [float(minitorch.empty(1).uniform_(lo, hi).item())
                   for lo, hi in (cj.brightness, cj.contrast, cj.saturation, cj.hue)]
        want = mt(a)
        fns = [F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue]
        for k in order:
            want = fns[k](want, factors[k])
        minitorch.manual_seed(seed)
        got = cj(mt(a))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        minitorch.manual_seed(seed)
        fn_idx, b, c, s, h = T.ColorJitter.get_params(cj.brightness, cj.contrast, cj.saturation, cj.hue)
        assert fn_idx.tolist() == order and [b, c, s, h] == factors
    assert 0.6 <= factors[0] <= 1.4 and -0.2 <= factors[3] <= 0.2
    out = cj(pil_of(a))
    assert isinstance(out, Image.Image) and out.size == (8, 8)


def test_random_colour_transforms_apply_with_probability_p():
    a = rgb_u8((2, 3, 6, 7))
    x = mt(a)
    cases = [(T.RandomInvert, (), F.invert, ()), (T.RandomPosterize, (2,), F.posterize, (2,)),
             (T.RandomSolarize, (99,), F.solarize, (99,)),
             (T.RandomAdjustSharpness, (3.0,), F.adjust_sharpness, (3.0,)),
             (T.RandomAutocontrast, (), F.autocontrast, ()), (T.RandomEqualize, (), F.equalize, ())]
    for cls, args, fn, fargs in cases:
        np.testing.assert_array_equal(cls(*args, p=1.0)(x).numpy(), fn(x, *fargs).numpy())
        assert cls(*args, p=0.0)(x) is x
        minitorch.manual_seed(5)
        coin = minitorch.rand(1).item() < 0.5
        minitorch.manual_seed(5)
        got = cls(*args)(x)
        assert (got is not x) == coin
    assert repr(T.RandomPosterize(3)) == "RandomPosterize(bits=3,p=0.5)"
    np.testing.assert_array_equal(T.Grayscale()(x).numpy(), F.rgb_to_grayscale(x).numpy())
    assert T.Grayscale(3)(x).shape == x.shape
    assert T.RandomGrayscale(p=1.0)(x).shape == x.shape
    np.testing.assert_array_equal(T.RandomGrayscale(p=1.0)(x).numpy()[:, 0], F.rgb_to_grayscale(x).numpy()[:, 0])
    assert T.RandomGrayscale(p=0.0)(x) is x
    assert T.RandomGrayscale(p=1.0)(pil_of(a[0])).mode == "RGB"


# ----------------------------------------------------------------------------------------------------------------
# augmentation policies
# ----------------------------------------------------------------------------------------------------------------
POLICIES = [lambda: T.AutoAugment(T.AutoAugmentPolicy.IMAGENET), lambda: T.AutoAugment(T.AutoAugmentPolicy.CIFAR10),
            lambda: T.AutoAugment(T.AutoAugmentPolicy.SVHN), lambda: T.RandAugment(),
            lambda: T.RandAugment(num_ops=3, magnitude=20), lambda: T.TrivialAugmentWide(), lambda: T.AugMix(),
            lambda: T.AugMix(severity=10, chain_depth=2, all_ops=False)]


@pytest.mark.parametrize("make", POLICIES)
def test_policies_run_on_pil_and_uint8_tensors_reproducibly(make):
    aug = make()
    a = rgb_u8((3, 20, 24), seed=1)
    batch = mt(rgb_u8((2, 3, 20, 24), seed=2))
    outs = []
    for seed in range(6):
        minitorch.manual_seed(seed)
        out = aug(mt(a))
        assert out.dtype == minitorch.uint8 and tuple(out.shape) == a.shape
        minitorch.manual_seed(seed)
        np.testing.assert_array_equal(aug(mt(a)).numpy(), out.numpy())
        outs.append(out.numpy())
        minitorch.manual_seed(seed)
        p1 = aug(pil_of(a))
        minitorch.manual_seed(seed)
        p2 = aug(pil_of(a))
        assert isinstance(p1, Image.Image) and p1.size == (24, 20) and p1.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(p1), np.asarray(p2))
        b = aug(batch)
        assert b.dtype == minitorch.uint8 and tuple(b.shape) == (2, 3, 20, 24)
    assert any(not np.array_equal(o, a) for o in outs)  # it does augment
    assert len({o.tobytes() for o in outs}) > 1  # and the seed matters
    assert aug(pil_of(a[:1])).mode == "L"


def test_every_policy_operation_on_pil_and_tensor():
    from minitorch.vision.transforms.autoaugment import _apply_op
    a = rgb_u8((3, 16, 16), seed=8)
    x, pil = mt(a), pil_of(a)
    for name, magnitude in [("ShearX", 0.17), ("ShearY", -0.13), ("TranslateX", 4.0), ("TranslateY", -3.0),
                            ("Rotate", 20.0), ("Brightness", 0.3), ("Color", -0.4), ("Contrast", 0.5),
                            ("Sharpness", 0.5), ("Posterize", 3), ("Solarize", 128.0), ("AutoContrast", 0.0),
                            ("Equalize", 0.0), ("Invert", 0.0), ("Identity", 0.0)]:
        t_out = _apply_op(x, name, magnitude, T.InterpolationMode.NEAREST, None).numpy().astype(int)
        p_out = chw_of(_apply_op(pil, name, magnitude, T.InterpolationMode.NEAREST, None)).astype(int)
        assert t_out.shape == a.shape
        # the same geometry on both kinds: nearly all pixels equal (ties in the sampling grid may differ)
        assert (np.abs(t_out - p_out) > 1).mean() < 0.05, name
    shifted = _apply_op(x, "TranslateX", 4.0, T.InterpolationMode.NEAREST, None).numpy()
    np.testing.assert_array_equal(shifted[..., 4:], a[..., :-4])
    assert (shifted[..., :4] == 0).all()
    filled = _apply_op(x, "TranslateY", 3.0, T.InterpolationMode.NEAREST, [10.0, 20.0, 30.0]).numpy()
    assert filled[:, :3, :].tolist() == [[[10] * 16] * 3, [[20] * 16] * 3, [[30] * 16] * 3]
    with pytest.raises(ValueError, match="The provided operator Blur is not recognized."):
        _apply_op(x, "Blur", 1.0, T.InterpolationMode.NEAREST, None)


def test_autoaugment_draws_in_torchvisions_order():
    from minitorch.vision.transforms.autoaugment import _POLICIES, _apply_op
    aug = T.AutoAugment(T.AutoAugmentPolicy.CIFAR10)
    a = rgb_u8((3, 12, 12), seed=4)
    for seed in range(8):
        minitorch.manual_seed(seed)
        policy_id = int(minitorch.randint(25, (1,)).item())
        probs = minitorch.rand((2,)).tolist()
        signs = minitorch.randint(2, (2,)).tolist()
        want = mt(a)
        space = aug._augmentation_space(10, (12, 12))
        for i, (name, p, bin_) in enumerate(_POLICIES[T.AutoAugmentPolicy.CIFAR10][policy_id]):
            if probs[i] <= p:
                mags, signed = space[name]
                m = float(mags[bin_].item()) if bin_ is not None else 0.0
                want = _apply_op(want, name, -m if signed and signs[i] == 0 else m, T.InterpolationMode.NEAREST, None)
        minitorch.manual_seed(seed)
        np.testing.assert_array_equal(aug(mt(a)).numpy(), want.numpy())


def test_trivial_augment_draws_in_torchvisions_order():
    from minitorch.vision.transforms.autoaugment import _apply_op
    aug = T.TrivialAugmentWide()
    space = aug._augmentation_space(31)
    assert list(space) == ["Identity", "ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate", "Brightness",
                           "Color", "Contrast", "Sharpness", "Posterize", "Solarize", "AutoContrast", "Equalize"]
    assert space["Posterize"][0].tolist()[:8] == [8, 8, 8, 7, 7, 7, 7, 7] and space["Posterize"][0].tolist()[-1] == 2
    a = rgb_u8((3, 12, 12), seed=6)
    for seed in range(10):
        minitorch.manual_seed(seed)
        name = list(space)[int(minitorch.randint(14, (1,)).item())]
        mags, signed = space[name]
        m = float(mags[int(minitorch.randint(len(mags), (1,)).item())].item()) if mags.dim() else 0.0
        if signed and minitorch.randint(2, (1,)).item():
            m = -m
        want = _apply_op(mt(a), name, m, T.InterpolationMode.NEAREST, None)
        minitorch.manual_seed(seed)
        np.testing.assert_array_equal(aug(mt(a)).numpy(), want.numpy())


def test_randaugment_magnitudes_and_augmix_mixing():
    space = T.RandAugment._augmentation_space(31, (33, 66))
    assert "Identity" in space and "Invert" not in space
    assert space["TranslateX"][0][-1].item() == pytest.approx(150 / 331 * 66)
    assert space["Posterize"][0].tolist()[:4] == [8, 8, 8, 8] and space["Posterize"][0].tolist()[-1] == 4
    assert space["Solarize"][0][0].item() == 255.0
    aa = T.AutoAugment._augmentation_space(10, (32, 32))
    assert aa["Posterize"][0].tolist() == [8, 8, 7, 7, 6, 6, 5, 5, 4, 4]
    mix = T.AugMix(mixture_width=2, chain_depth=2)
    assert set(mix._augmentation_space(10, (8, 8))) >= {"Brightness", "Sharpness"}
    assert "Brightness" not in T.AugMix(all_ops=False)._augmentation_space(10, (8, 8))
    x = mt(rgb_u8((2, 3, 10, 10), seed=9))

    class OnlyOriginal(T.AugMix):
        def _sample_dirichlet(self, params):
            out = minitorch.zeros(*params.shape)
            out[:, 0] = 1.0
            return out
    np.testing.assert_array_equal(OnlyOriginal()(x).numpy(), x.numpy())
    # v1 policies take uint8 tensors: their Solarize thresholds are on the 0-255 scale
    from minitorch.vision.transforms.autoaugment import _apply_op
    with pytest.raises(TypeError, match="Threshold should be less than bound of img."):
        _apply_op(mt(rgb_f32((3, 10, 10))), "Solarize", 255.0, T.InterpolationMode.NEAREST, None)


def test_policy_errors_and_reprs():
    with pytest.raises(ValueError, match="The provided policy cifar is not recognized."):
        T.AutoAugment("cifar")
    with pytest.raises(ValueError, match=r"The severity must be between \[1, 10\]. Got 11 instead."):
        T.AugMix(severity=11)
    assert repr(T.AutoAugment()) == "AutoAugment(policy=AutoAugmentPolicy.IMAGENET, fill=None)"
    assert repr(T.RandAugment()) == ("RandAugment(num_ops=2, magnitude=9, num_magnitude_bins=31, "
                                     "interpolation=InterpolationMode.NEAREST, fill=None)")
    assert T.AutoAugmentPolicy("svhn") is T.AutoAugmentPolicy.SVHN


# ----------------------------------------------------------------------------------------------------------------
# transforms.v2
# ----------------------------------------------------------------------------------------------------------------
def test_v2_to_image_to_dtype_to_pure_tensor():
    a = rgb_u8((3, 5, 6))
    hwc = np.ascontiguousarray(a.transpose(1, 2, 0))
    img = v2.ToImage()(Image.fromarray(hwc))
    assert img.dtype == minitorch.uint8
    np.testing.assert_array_equal(img.numpy(), a)
    np.testing.assert_array_equal(v2.ToImage()(hwc).numpy(), a)
    assert tuple(v2.ToImage()(a[0]).shape) == (1, 5, 6)
    assert tuple(v2.ToImage()(mt(a[0])).shape) == (1, 5, 6)
    x = mt(a)
    assert v2.ToImage()(x) is x and v2.ToPureTensor()(x) is x
    with pytest.raises(TypeError, match="Input can either be a pure Tensor, a numpy array, or a PIL image, but got"):
        F2.to_image([1, 2])

    f = v2.ToDtype(minitorch.float32, scale=True)(x)
    assert f.dtype == minitorch.float32
    np.testing.assert_array_equal(f.numpy(), a.astype(np.float32) * np.float32(1 / 255))
    np.testing.assert_array_equal(v2.ToDtype(minitorch.float32)(x).numpy(), a.astype(np.float32))
    back = v2.ToDtype(minitorch.uint8, scale=True)(f)
    np.testing.assert_array_equal(back.numpy(), (f.numpy() * np.float32(255.999)).astype(np.uint8))
    np.testing.assert_array_equal(back.numpy(), a)
    wide = F2.to_dtype(x, minitorch.int32, scale=True).numpy()
    np.testing.assert_array_equal(wide, a.astype(np.int32) << 23)
    np.testing.assert_array_equal(F2.to_dtype(mt(wide), minitorch.uint8, scale=True).numpy(), a)
    as_dict = v2.ToDtype({minitorch.Tensor: minitorch.float64, "others": None}, scale=True)
    assert as_dict(x).dtype == minitorch.float64
    assert v2.ToDtype({"others": None})(x) is x
    with pytest.raises(ValueError, match="dtype must be a dict or a torch.dtype, got <class 'str'> instead"):
        v2.ToDtype("float32")
    with pytest.raises(ValueError, match="No dtype was specified for type"):
        v2.ToDtype({str: minitorch.float32})(x)
    with pytest.raises(RuntimeError, match="The conversion from minitorch.float32 to minitorch.int32 cannot be "
                                           "performed safely."):
        F2.to_dtype(f, minitorch.int32, scale=True)
    assert repr(v2.ToDtype(minitorch.float32, scale=True)) == "ToDtype(dtype=minitorch.float32, scale=True)"


def test_v2_samples_with_labels_and_structures():
    a = rgb_u8((3, 12, 14), seed=3)
    pil = pil_of(a)
    pipeline = v2.Compose([v2.ToImage(), v2.RandomHorizontalFlip(p=1.0), v2.ColorJitter(brightness=0.3),
                           v2.TrivialAugmentWide(), v2.ToDtype(minitorch.float32, scale=True),
                           v2.Normalize((0.5,) * 3, (0.5,) * 3)])
    minitorch.manual_seed(0)
    img, label = pipeline(pil, 7)
    assert label == 7 and img.dtype == minitorch.float32 and tuple(img.shape) == (3, 12, 14)
    minitorch.manual_seed(0)
    alone = pipeline(pil)
    np.testing.assert_array_equal(alone.numpy(), img.numpy())
    # the image is the first tensor when there is no PIL image; other tensors pass through
    x, mask = mt(a), mt(np.ones((12, 14), np.int64))
    out = v2.RandomInvert(p=1.0)({"image": x, "mask": mask, "name": "a"})
    np.testing.assert_array_equal(out["image"].numpy(), 255 - a)
    assert out["mask"] is mask and out["name"] == "a"
    flipped, lbl = v2.RandomVerticalFlip(p=1.0)((mask.to(minitorch.uint8), pil))
    assert flipped.dtype == minitorch.uint8 and np.array_equal(np.asarray(lbl), a.transpose(1, 2, 0)[::-1])
    assert v2.Lambda(lambda t: t + 1, minitorch.Tensor)(mask, 3)[1] == 3
    with pytest.raises(TypeError, match="the sample holds 2 PIL images"):
        v2.RandomInvert()(pil, pil)
    with pytest.raises(ValueError, match="Pass at least one transform"):
        v2.Compose([])
    with pytest.warns(UserWarning, match=r"The transform `ToTensor\(\)` is deprecated"):
        v2.ToTensor()


def test_v2_colour_functions_take_float_images():
    f = rgb_f32((2, 3, 6, 6), seed=12)
    x = mt(f)
    np.testing.assert_allclose(F2.posterize(x, 2).numpy(), np.clip(np.floor(f * 4), 0, 3) / 4, atol=1e-7)
    np.testing.assert_array_equal(v2.RandomPosterize(8, p=1.0)(mt(rgb_u8())).numpy(), rgb_u8())
    eq = F2.equalize(x).numpy()
    u8 = (f * np.float32(255.999)).astype(np.uint8)
    np.testing.assert_allclose(eq, F.equalize(mt(u8)).numpy().astype(np.float32) / 255, atol=1e-6)
    np.testing.assert_array_equal(v2.RandomSolarize(0.5, p=1.0)(x).numpy(), np.where(f >= 0.5, 1 - f, f))
    with pytest.raises(TypeError, match="Threshold should be less or equal the maximum value of the dtype, but got 2"):
        F2.solarize(x, 2)
    assert "adjust_hue" in F2.__all__ and F2.adjust_hue is F.adjust_hue


@pytest.mark.torch
def test_magnitude_tables_equal_pytorchs_linspace_and_rounding(torch):
    from minitorch.vision.transforms.autoaugment import _linspace, _posterize_bits
    ends = [0.3, 0.99, 32.0, 135.0] + [150 / 331 * s for s in range(8, 400, 13)] + [s / 3 for s in range(8, 400, 13)]
    for end in ends:
        for steps in (1, 2, 10, 31):
            np.testing.assert_array_equal(_linspace(0.0, end, steps).numpy(), torch.linspace(0.0, end, steps).numpy())
    np.testing.assert_array_equal(_linspace(255.0, 0.0, 31).numpy(), torch.linspace(255.0, 0.0, 31).numpy())
    for n, top, span in ((10, 8, 4), (31, 8, 4), (31, 8, 6), (10, 4, 4)):
        want = (top - (torch.arange(n) / ((n - 1) / span)).round().int()).numpy()
        got = _posterize_bits(n, top, span).numpy()
        assert got.dtype == np.int32
        np.testing.assert_array_equal(got, want)


def test_v2_mixup_and_cutmix():
    from minitorch.distributions import Beta
    x = rgb_f32((4, 3, 10, 12), seed=21)
    labels = minitorch.tensor([0, 2, 1, 2])
    onehot = np.eye(3, dtype=np.float32)[[0, 2, 1, 2]]
    for seed in range(3):
        minitorch.manual_seed(seed)
        lam = float(Beta(minitorch.tensor([0.4]), minitorch.tensor([0.4])).sample(()).item())
        minitorch.manual_seed(seed)
        images, mixed = v2.MixUp(alpha=0.4, num_classes=3)(mt(x), labels)
        np.testing.assert_allclose(images.numpy(), lam * x + (1 - lam) * np.roll(x, 1, axis=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(mixed.numpy(), lam * onehot + (1 - lam) * np.roll(onehot, 1, axis=0), atol=1e-6)

        minitorch.manual_seed(seed)
        lam = float(Beta(minitorch.tensor([1.0]), minitorch.tensor([1.0])).sample(()).item())
        cx, cy = int(minitorch.randint(12, (1,)).item()), int(minitorch.randint(10, (1,)).item())
        half_w, half_h = int(0.5 * np.sqrt(1 - lam) * 12), int(0.5 * np.sqrt(1 - lam) * 10)
        x1, x2, y1, y2 = max(cx - half_w, 0), min(cx + half_w, 12), max(cy - half_h, 0), min(cy + half_h, 10)
        want = x.copy()
        want[..., y1:y2, x1:x2] = np.roll(x, 1, axis=0)[..., y1:y2, x1:x2]
        kept = 1 - (x2 - x1) * (y2 - y1) / 120
        minitorch.manual_seed(seed)
        out = v2.CutMix(num_classes=3)({"image": mt(x), "labels": labels})
        np.testing.assert_array_equal(out["image"].numpy(), want)
        np.testing.assert_allclose(out["labels"].numpy(), kept * onehot + (1 - kept) * np.roll(onehot, 1, 0),
                                   atol=1e-6)
    probs = mt(onehot * 0.5 + 0.1)
    _, soft = v2.MixUp(alpha=1.0)(mt(x), probs)
    assert tuple(soft.shape) == (4, 3)
    with pytest.raises(ValueError, match="num_classes must be passed if the labels are index-based"):
        v2.MixUp()(mt(x), labels)
    with pytest.raises(ValueError, match="Expected a batched input with 4 dims, but got 3 dimensions instead."):
        v2.CutMix(num_classes=3)(mt(x[0]), labels)
    with pytest.raises(ValueError, match="does not match the batch size of the labels: 4 != 2"):
        v2.MixUp(num_classes=3)(mt(x), labels[:2])
    with pytest.raises(ValueError, match=r"MixUp\(\) does not support PIL images"):
        v2.MixUp(num_classes=3)(pil_of(rgb_u8()), labels)
    with pytest.raises(ValueError, match="The labels must be a tensor, but got <class 'list'> instead."):
        v2.MixUp(num_classes=3)(mt(x), [0, 1, 2, 1])
    with pytest.raises(ValueError, match="Could not infer where the labels are in the sample."):
        v2.MixUp(num_classes=3)(mt(x))
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type"):
        v2.MixUp(num_classes=3)(mt(rgb_u8((4, 3, 4, 4))), labels)


def test_v2_photometric_distort_channel_permutation_rgb():
    a = rgb_u8((3, 9, 10), seed=13)
    x = mt(a)
    distort = v2.RandomPhotometricDistort(p=1.0)
    for seed in range(3):
        minitorch.manual_seed(seed)
        factors = []
        for bounds in (distort.brightness, distort.contrast, distort.saturation, distort.hue):
            assert minitorch.rand(1).item() < 1.0
            factors.append(float(minitorch.empty(1).uniform_(bounds[0], bounds[1]).item()))
        before = minitorch.rand(()).item() < 0.5
        minitorch.rand(1)
        perm = minitorch.randperm(3).tolist()
        want = F.adjust_brightness(x, factors[0])
        if before:
            want = F.adjust_contrast(want, factors[1])
        want = F.adjust_hue(F.adjust_saturation(want, factors[2]), factors[3])
        if not before:
            want = F.adjust_contrast(want, factors[1])
        minitorch.manual_seed(seed)
        np.testing.assert_array_equal(distort(x).numpy(), want.numpy()[perm])
    assert v2.RandomPhotometricDistort(p=0.0)(x).numpy().tolist() == a.tolist()
    minitorch.manual_seed(1)
    perm = minitorch.randperm(3).tolist()
    minitorch.manual_seed(1)
    np.testing.assert_array_equal(v2.RandomChannelPermutation()(x).numpy(), a[perm])
    permuted = np.asarray(F2.permute_channels(pil_of(a), [2, 0, 1]))
    np.testing.assert_array_equal(permuted, a[[2, 0, 1]].transpose(1, 2, 0))
    np.testing.assert_array_equal(v2.RGB()(mt(a[:1])).numpy(), np.repeat(a[:1], 3, axis=0))
    assert v2.RGB()(x) is x and v2.RGB()(pil_of(a[:1])).mode == "RGB"
    with pytest.raises(ValueError, match=r"permutation \[0, 0, 1\] is not a permutation of the 3 channels"):
        F2.permute_channels(x, [0, 0, 1])
    assert v2.Identity()(x, "label") == (x, "label")


def test_v2_reexports_every_v1_class_with_sample_handling():
    import minitorch.vision.transforms as v1
    skipped = {"functional", "InterpolationMode", "AutoAugmentPolicy", "RandomTransforms"}
    for name in v1.__all__:
        if name not in skipped:
            assert name in v2.__all__ and isinstance(getattr(v2, name), type), name
    x = mt(rgb_u8((3, 20, 20), seed=2))
    pipeline = v2.Compose([v2.RandomResizedCrop(16), v2.RandomApply([v2.ColorJitter(0.3)], p=0.5),
                           v2.RandAugment(), v2.ToDtype(minitorch.float32, scale=True)])
    minitorch.manual_seed(4)
    img, label = pipeline(x, 5)
    assert label == 5 and tuple(img.shape) == (3, 16, 16) and img.dtype == minitorch.float32
    minitorch.manual_seed(4)
    np.testing.assert_array_equal(pipeline(x).numpy(), img.numpy())


def test_colour_transforms_take_host_tensors(device):
    x = minitorch.from_numpy(rgb_u8((3, 4, 5))).to(device)
    if device == "cpu":
        assert F.invert(x).dtype == minitorch.uint8
        return
    for fn, args in ((F.invert, ()), (F.adjust_brightness, (1.2,)), (F.equalize, ())):
        with pytest.raises(TypeError, match="transforms run on the host, so they take CPU tensors"):
            fn(x, *args)


def test_v2_policies_draw_as_v2_and_take_float_images():
    from minitorch.vision.transforms.autoaugment import _POLICIES, _apply_op
    a = rgb_u8((3, 12, 12), seed=14)
    f = mt(a.astype(np.float32) / 255)
    aug = v2.TrivialAugmentWide()
    space = aug._space(31, 12, 12)
    assert space["Identity"][0] is None and space["Solarize"][0].numpy()[0] == 1.0
    for seed in range(12):
        minitorch.manual_seed(seed)
        name = list(space)[int(minitorch.randint(14, ()).item())]
        mags, signed = space[name]
        m = 0.0
        if mags is not None:
            m = float(mags.numpy()[int(minitorch.randint(31, ()).item())])
            if signed and minitorch.rand(()).item() <= 0.5:
                m = -m
        if name == "Solarize":
            want = F.solarize(mt(a), 255 * m)
        elif name == "AutoContrast":
            want = F2.autocontrast(mt(a))
        else:
            want = _apply_op(mt(a), name, m, T.InterpolationMode.NEAREST, None)
        minitorch.manual_seed(seed)
        np.testing.assert_array_equal(aug(mt(a)).numpy(), want.numpy())
    policy = v2.AutoAugment(T.AutoAugmentPolicy.SVHN)
    space = policy._space(10, 12, 12)
    seen = set()
    for seed in range(40):
        minitorch.manual_seed(seed)
        steps = _POLICIES[T.AutoAugmentPolicy.SVHN][int(minitorch.randint(25, ()).item())]
        want = f
        applied = []
        for name, p, bin_ in steps:
            if not minitorch.rand(()).item() <= p:
                continue
            mags, signed = space[name]
            m = 0.0
            if mags is not None:
                m = float(mags.numpy()[bin_])
                if signed and minitorch.rand(()).item() <= 0.5:
                    m = -m
            if name == "Solarize":  # a fraction of the float maximum 1.0
                want = F.solarize(want, m)
            elif name == "Equalize":  # v2 equalizes floats on their uint8 levels
                want = F2.equalize(want)
            elif name == "AutoContrast":
                want = F2.autocontrast(want)
            else:
                want = _apply_op(want, name, m, T.InterpolationMode.NEAREST, None)
            applied.append(name)
        minitorch.manual_seed(seed)
        got = policy(f)
        seen.update(applied)
        assert got.dtype == minitorch.float32
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert {"Solarize", "Equalize", "ShearX", "Invert"} <= seen
    for cls in (v2.AutoAugment, v2.RandAugment, v2.TrivialAugmentWide, v2.AugMix):
        for seed in range(10):  # every operation, float images included
            minitorch.manual_seed(seed)
            out, label = cls()(mt(rgb_f32((2, 3, 12, 12), seed=seed)), 1)
            assert out.dtype == minitorch.float32 and tuple(out.shape) == (2, 3, 12, 12) and label == 1
            assert float(out.numpy().min()) >= 0.0 and float(out.numpy().max()) <= 1.0


def test_v2_custom_transform_protocol():
    class AddNoise(v2.Transform):
        def make_params(self, flat_inputs):
            return {"shift": float(minitorch.rand(()).item()), "n": len(flat_inputs)}

        def transform(self, inpt, params):
            return inpt + params["shift"] * params["n"]

    x = mt(rgb_f32((3, 4, 4)))
    minitorch.manual_seed(3)
    shift = float(minitorch.rand(()).item())
    minitorch.manual_seed(3)
    out, label = AddNoise()(x, 2)
    assert label == 2
    np.testing.assert_allclose(out.numpy(), x.numpy() + shift, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="Bare should override transform"):
        type("Bare", (v2.Transform,), {})()(x)


@pytest.mark.torch
def test_v2_autocontrast_and_to_grayscale(torch):
    a = rgb_u8((2, 3, 9, 11), seed=17)
    a[1, 0] = 40
    tx = torch.from_numpy(a).float()
    lo, hi = tx.amin(dim=(-2, -1), keepdim=True), tx.amax(dim=(-2, -1), keepdim=True)
    flat = hi == lo
    inv_scale = (hi - lo).mul_(1.0 / 255)
    lo[flat], inv_scale[flat] = 0.0, 1.0
    want = (tx - lo).div_(inv_scale).clamp_(0, 255).to(torch.uint8).numpy()
    np.testing.assert_array_equal(F2.autocontrast(mt(a)).numpy(), want)
    np.testing.assert_array_equal(v2.RandomAutocontrast(p=1.0)(mt(a)).numpy(), want)
    f = rgb_f32((3, 5, 5))
    np.testing.assert_allclose(F2.autocontrast(mt(f)).numpy(),
                               (f - f.min((1, 2), keepdims=True)) / np.ptp(f, axis=(1, 2), keepdims=True), atol=1e-6)
    np.testing.assert_array_equal(F2.to_grayscale(mt(a)).numpy(), F.rgb_to_grayscale(mt(a)).numpy())
    with pytest.raises(TypeError, match=r"permitted channel values are \[1, 3\], but found 2"):
        F2.autocontrast(mt(rgb_u8((2, 4, 4))))


def test_transforms_pickle_for_worker_processes():
    import pickle
    x = mt(rgb_u8((3, 8, 8), seed=1))
    for t in (T.ColorJitter(0.3, 0.3, 0.3, 0.1), T.AugMix(), v2.RandAugment(), v2.MixUp(num_classes=3),
              v2.Compose([v2.ToImage(), v2.RandomPhotometricDistort(), v2.ToDtype(minitorch.float32, scale=True)])):
        clone = pickle.loads(pickle.dumps(t))
        assert type(clone) is type(t) and repr(clone) == repr(t)
        if not isinstance(t, v2.MixUp):
            minitorch.manual_seed(2)
            want = t(x)
            minitorch.manual_seed(2)
            np.testing.assert_array_equal(clone(x).numpy(), want.numpy())
