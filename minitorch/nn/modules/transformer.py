"""``nn.modules.transformer``: PyTorch's import path; holds the transformer layers this build has (none yet)."""

__all__ = []
