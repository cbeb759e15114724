"""The model registry and the weights enums, as ``torchvision.models``' API.

Every builder (``resnet18`` ...) is registered under its name with ``@register_model()``; ``list_models``,
``get_model``, ``get_model_builder`` and ``get_model_weights`` look it up there. Each family's pretrained weights are
a ``WeightsEnum`` whose members hold a ``Weights`` (the file's URL, the matching input transforms, and metadata such
as the class names and parameter count); ``DEFAULT`` is an alias of the recommended member.
"""
import contextlib
import fnmatch
import importlib
import pkgutil
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from inspect import signature
from typing import Any

__all__ = [
    "Weights",
    "WeightsEnum",
    "get_model",
    "get_model_builder",
    "get_model_weights",
    "get_weight",
    "list_models",
    "register_model",
]


@dataclass
class Weights:
    """One set of pretrained weights: where the file is, how inputs must be transformed, and what is known about it.

    Args:
        url: the address of the PyTorch checkpoint (a state dict).
        transforms: a callable returning the inference transform (``weights.transforms()``).
        meta: ``categories``, ``num_params``, ``min_size``, ``recipe``, ``_metrics`` ...
    """

    url: str
    transforms: Callable
    meta: dict[str, Any] = field(default_factory=dict)


class WeightsEnum(Enum):
    """Base of the ``*_Weights`` enums: each member's value is a ``Weights``."""

    @classmethod
    def verify(cls, obj):
        """``obj`` as a member of this enum: None stays None, a member is checked, a string names a member
        ("IMAGENET1K_V1", "DEFAULT" or "ResNet18_Weights.IMAGENET1K_V1")."""
        if obj is None:
            return None
        if isinstance(obj, str):
            return cls[obj.replace(cls.__name__ + ".", "")]
        if not isinstance(obj, cls):
            raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                            f"{obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args, **kwargs):
        """The weights' state dict, downloaded once into the hub cache (see ``minitorch.hub.load_state_dict_from_url``
        for the arguments: ``progress``, ``check_hash`` ...)."""
        from minitorch.hub import load_state_dict_from_url
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self):
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self):
        return self.value.url

    @property
    def transforms(self):
        return self.value.transforms

    @property
    def meta(self):
        return self.value.meta


BUILTIN_MODELS = {}


def register_model(name=None):
    """Decorator that registers a model builder under ``name`` (default: the function's name)."""
    def wrapper(fn):
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn
    return wrapper


def list_models(module=None, include=None, exclude=None):
    """The sorted names of the registered models, optionally only those of ``module`` (``minitorch.vision.models``),
    those matching the Unix-shell patterns ``include`` and not ``exclude`` (a string or a list of them)."""
    names = [k for k, fn in BUILTIN_MODELS.items()
             if module is None or fn.__module__.rsplit(".", 1)[0] == module.__name__]
    if include:
        include = [include] if isinstance(include, str) else include
        chosen = set()
        for pattern in include:
            chosen.update(fnmatch.filter(names, pattern))
        names = list(chosen)
    if exclude:
        exclude = [exclude] if isinstance(exclude, str) else exclude
        for pattern in exclude:
            dropped = set(fnmatch.filter(names, pattern))
            names = [n for n in names if n not in dropped]
    return sorted(names)


def get_model_builder(name):
    """The builder function registered as ``name`` (case-insensitive)."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name, **config):
    """The model registered as ``name``, built with ``config`` (``weights=``, ``num_classes=`` ...)."""
    return get_model_builder(name)(**config)


def _weights_enum_of(fn):
    sig = signature(fn)
    if "weights" not in sig.parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    ann = sig.parameters["weights"].annotation
    if isinstance(ann, str):
        with contextlib.suppress(NameError, TypeError):  # a forward reference that does not resolve
            ann = typing.get_type_hints(fn).get("weights", ann)
    candidates = [ann] + list(typing.get_args(ann))
    for t in candidates:
        if isinstance(t, type) and issubclass(t, WeightsEnum):
            return t
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. Make sure the typing info "
                     "is correct.")


def get_model_weights(name):
    """The ``*_Weights`` enum of a model, given its registered name or its builder function."""
    fn = get_model_builder(name) if isinstance(name, str) else name
    return _weights_enum_of(fn)


def _models_modules():
    """``minitorch.vision.models`` and its submodules (where the weights enums live)."""
    base = importlib.import_module(__name__.rsplit(".", 1)[0])
    mods = [base]
    for info in pkgutil.walk_packages(base.__path__, base.__name__ + "."):
        mod = sys.modules.get(info.name)
        if mod is not None:
            mods.append(mod)
    return mods


def get_weight(name):
    """The weights member named "EnumName.MEMBER" ("ResNet50_Weights.IMAGENET1K_V2")."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    weights_enum = None
    for mod in _models_modules():
        cand = getattr(mod, enum_name, None)
        if isinstance(cand, type) and issubclass(cand, WeightsEnum):
            weights_enum = cand
            break
    if weights_enum is None:
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be retrieved.")
    return weights_enum[value_name]
