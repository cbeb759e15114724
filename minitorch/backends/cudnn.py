"""``minitorch.backends.cudnn``: minitorch has no cuDNN; its flags are kept for programs that set them."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """False: convolutions run minitorch's own kernels on every device."""
    return False


def version():
    return None
