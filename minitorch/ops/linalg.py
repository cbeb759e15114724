"""Differentiable linear algebra (the Functions behind minitorch.linalg and the classic names such as det)."""

FUNCTIONS = []  # exported as minitorch.<name>
METHODS = []  # attached as Tensor.<name>
