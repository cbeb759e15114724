"""``torch._inductor``: the code generator behind ``minitorch.compile`` is ``minitorch.compiler.codegen``; scripts
written for PyTorch reach its cache through ``torch._inductor.utils.fresh_inductor_cache()``."""
from . import utils

__all__ = ["utils"]
