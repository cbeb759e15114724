"""``nn.modules.rnn``: PyTorch's import path; holds the rnn layers this build has (none yet)."""

__all__ = []
