"""Composites PyTorch programs use that are built entirely from other differentiable ops (elementwise math such as
logaddexp and hypot, shape helpers such as column_stack and repeat_interleave, statistics such as quantile)."""

FUNCTIONS = []  # exported as minitorch.<name>
METHODS = []  # attached as Tensor.<name>
