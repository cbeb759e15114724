"""``nn.modules.padding``: PyTorch's import path; holds the padding layers this build has (none yet)."""

__all__ = []
