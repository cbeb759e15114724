"""``torch._logging._internal``: the formatter the compiler's report lines go through, and ``_init_logs()``, which
reads ``TORCH_LOGS`` and ``TORCH_LOGS_FORMAT`` again (PyTorch's tutorials call it to print bare messages).

``TORCH_LOGS_FORMAT`` unset: lines keep minitorch's ``[minitorch.compile] [__artifact] message`` form;
``"short"`` or ``"basic"``: ``logging.BASIC_FORMAT``; any other value, the empty string included, is a
``logging.Formatter`` format (empty: the bare message).
"""
import logging
import os

from ..compiler import logs as _logs

LOG_ENV_VAR = "TORCH_LOGS"
LOG_FORMAT_ENV_VAR = "TORCH_LOGS_FORMAT"


class TorchLogsFormatter(logging.Formatter):
    """minitorch's own line form: ``[minitorch.compile] [__artifact] message``."""

    def format(self, record):
        return f"[minitorch.compile] [__{getattr(record, 'artifact', record.name)}] {record.getMessage()}"


def _default_formatter():
    fmt = os.environ.get(LOG_FORMAT_ENV_VAR)
    if fmt is None:
        return TorchLogsFormatter()
    if fmt in ("short", "basic"):
        fmt = logging.BASIC_FORMAT
    return logging.Formatter(fmt)


DEFAULT_FORMATTER = _default_formatter()


def _init_logs(log_file_name=None):
    """Apply ``DEFAULT_FORMATTER`` (as this module holds it now: a program may have replaced it) to the compiler's
    report lines and read ``TORCH_LOGS`` again (the artifacts it names are turned on; unset, all are off).
    ``log_file_name``: the lines go to that file (appended) instead of stderr."""
    _logs.set_output(DEFAULT_FORMATTER, log_file_name)
    _logs.from_env(os.environ.get(LOG_ENV_VAR, ""))
