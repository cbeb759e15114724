"""``torch._inductor``: the code generator behind ``minitorch.compile`` is ``minitorch.compiler.codegen``; scripts
written for PyTorch reach its cache through ``torch._inductor.utils.fresh_inductor_cache()`` and set its floating-point
contraction through ``torch._inductor.config.cpp.enable_floating_point_contract_flag``."""
from . import config, utils

__all__ = ["config", "utils"]
