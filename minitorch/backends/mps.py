"""``minitorch.backends.mps``: there is no Metal device in minitorch."""


def is_available():
    return False


def is_built():
    return False
