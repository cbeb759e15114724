"""Operation codes shared by every device's kernels (the launcher passes the code, the kernel switches on it)."""

# Unary ops whose output dtype equals the input dtype.
UNARY = {
    "neg": 0, "abs": 1, "sign": 2, "exp": 3, "log": 4, "log1p": 5, "expm1": 6, "sqrt": 7, "rsqrt": 8,
    "sin": 9, "cos": 10, "tanh": 11, "sigmoid": 12, "relu": 13, "reciprocal": 14, "floor": 15, "ceil": 16,
    "round": 17, "trunc": 18, "square": 19, "erf": 20, "log2": 21, "exp2": 22, "tan": 23, "atan": 24,
    "asin": 25, "acos": 26, "sinh": 27, "cosh": 28, "frac": 29, "log10": 30, "gelu_tanh": 31,
}
# Unary ops with a bool output.
PREDICATE = {"isnan": 0, "isfinite": 1, "logical_not": 2, "isinf": 3, "signbit": 4, "nonzero": 5}
# Binary ops whose output dtype equals the (promoted) input dtype.
BINARY = {
    "add": 0, "sub": 1, "mul": 2, "div": 3, "floor_divide": 4, "remainder": 5, "pow": 6, "maximum": 7,
    "minimum": 8, "atan2": 9, "fmod": 10, "rsub": 11, "copysign": 12,
}
# Binary ops with a bool output.
COMPARE = {
    "eq": 0, "ne": 1, "lt": 2, "le": 3, "gt": 4, "ge": 5, "logical_and": 6, "logical_or": 7, "logical_xor": 8,
}
# Bitwise ops on integer tensors (same dtype out; bool tensors use the logical ops).
BITWISE = {"bitwise_and": 0, "bitwise_or": 1, "bitwise_xor": 2, "bitwise_left_shift": 3, "bitwise_right_shift": 4}
# Reductions.
REDUCE = {"sum": 0, "prod": 1, "amax": 2, "amin": 3, "all": 4, "any": 5}
ARGREDUCE = {"argmax": 0, "argmin": 1}
SCAN = {"cumsum": 0, "cumprod": 1}
