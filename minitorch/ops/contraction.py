"""Contractions and products (einsum, tensordot, kron, cdist ...) and the shape/indexing ops built on them."""

FUNCTIONS = []  # exported as minitorch.<name>
METHODS = []  # attached as Tensor.<name>
