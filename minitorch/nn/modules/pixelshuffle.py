"""``nn.modules.pixelshuffle``: PyTorch's import path; holds the pixelshuffle layers this build has (none yet)."""

__all__ = []
