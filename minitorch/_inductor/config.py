"""``torch._inductor.config``: the settings of ``minitorch.compile``'s code generator that PyTorch scripts set.

``cpp.enable_floating_point_contract_flag``: "off" (the default, as PyTorch's; read from the environment variable
``TORCHINDUCTOR_CPP_ENABLE_FLOATING_POINT_CONTRACT_FLAG`` at import) keeps every multiply and add of a fused CPU
kernel rounded on its own, so compiled elementwise chains give eager mode's bits; "on" or "fast" lets a multiply and
an add become one fused multiply-add (a last bit may differ from eager mode's; tanh-GELU over 16M float32 elements:
16 -> 11.3 ms here). Read when a kernel is generated: set it before the first call (or ``minitorch.compiler.reset()``
after changing it)."""
import os


class cpp:
    enable_floating_point_contract_flag = os.environ.get("TORCHINDUCTOR_CPP_ENABLE_FLOATING_POINT_CONTRACT_FLAG", "off")
