"""Helpers shared by the model builders: keyword checks, channel rounding, and the deprecated ``pretrained=``."""
import functools
import inspect
import warnings

from ._api import WeightsEnum

__all__ = []


def _ovewrite_named_param(kwargs, param, new_value):
    """Set ``kwargs[param] = new_value``, unless the caller passed a different value (then ValueError): pretrained
    weights fix e.g. ``num_classes``."""
    if param in kwargs:
        if kwargs[param] != new_value:
            raise ValueError(f"The parameter '{param}' expected value {new_value} but got {kwargs[param]} instead.")
    else:
        kwargs[param] = new_value


def _ovewrite_value_param(param, actual, expected):
    """``expected``, after checking that ``actual`` is None or equal to it (ValueError otherwise)."""
    if actual is not None and actual != expected:
        raise ValueError(f"The parameter '{param}' expected value {expected} but got {actual} instead.")
    return expected


def _make_divisible(v, divisor, min_value=None):
    """``v`` rounded to the nearest multiple of ``divisor`` (at least ``min_value``), never more than 10% below it."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _kwonly_to_pos_or_kw(fn):
    """Let the keyword-only parameters of ``fn`` be passed positionally too, with a deprecation warning (old code
    calls ``resnet18(True)``)."""
    params = inspect.signature(fn).parameters
    try:
        first = next(i for i, p in enumerate(params.values()) if p.kind == p.KEYWORD_ONLY)
    except StopIteration:
        raise TypeError(f"Found no keyword-only parameter on function '{fn.__name__}'") from None
    kwonly = list(params)[first:]

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        args, extra = args[:first], args[first:]
        if extra:
            names = kwonly[:len(extra)]
            quoted = [repr(n) for n in names]
            listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
            warnings.warn(f"Using {listed} as positional parameter(s) is deprecated since "
                          "0.13 and may be removed in the future. Please use keyword parameter(s) instead.")
            kwargs.update(zip(names, extra))
        return fn(*args, **kwargs)
    return wrapper


def handle_legacy_interface(**weights):
    """Map the deprecated ``pretrained=True/False`` (or a positional bool) of a builder to ``weights=``.

    Each keyword is ``weights_param=(pretrained_param, default)``: ``pretrained_param=True`` becomes
    ``weights_param=default`` (an enum member, or a function of the other keyword arguments giving one), ``False``
    becomes None, with torchvision's deprecation warnings.
    """
    def outer(builder):
        @_kwonly_to_pos_or_kw
        @functools.wraps(builder)
        def inner(*args, **kwargs):
            for weights_param, (pretrained_param, default) in weights.items():
                missing = object()
                weights_arg = kwargs.get(weights_param, missing)
                if ((weights_param not in kwargs and pretrained_param not in kwargs)
                        or isinstance(weights_arg, WeightsEnum)
                        or (isinstance(weights_arg, str) and weights_arg != "legacy")
                        or weights_arg is None):
                    continue
                # a bool given positionally lands in weights_param (see _kwonly_to_pos_or_kw)
                positional = weights_arg is not missing
                if positional:
                    kwargs[pretrained_param] = pretrained_arg = kwargs.pop(weights_param)
                else:
                    pretrained_arg = kwargs[pretrained_param]
                if pretrained_arg:
                    default_weights = default(kwargs) if callable(default) else default
                    if not isinstance(default_weights, WeightsEnum):
                        raise ValueError(f"No weights available for model {builder.__name__}")
                else:
                    default_weights = None
                if not positional:
                    warnings.warn(f"The parameter '{pretrained_param}' is deprecated since 0.13 and may be removed in "
                                  f"the future, please use '{weights_param}' instead.")
                msg = (f"Arguments other than a weight enum or `None` for '{weights_param}' are deprecated since 0.13 "
                       "and may be removed in the future. The current behavior is equivalent to passing "
                       f"`{weights_param}={default_weights}`.")
                if pretrained_arg:
                    msg += (f" You can also use `{weights_param}={type(default_weights).__name__}.DEFAULT` to get the "
                            "most up-to-date weights.")
                warnings.warn(msg)
                del kwargs[pretrained_param]
                kwargs[weights_param] = default_weights
            return builder(*args, **kwargs)
        return inner
    return outer
