"""``torch.profiler``: ``profile`` with activities, ``schedule`` and ``tensorboard_trace_handler``; events come
from minitorch's dispatch layer (see ``minitorch.autograd.profiler``)."""
from ..autograd.profiler import record_function
from .profiler import (ProfilerAction, ProfilerActivity, _KinetoProfile, profile, schedule, supported_activities,
                       tensorboard_trace_handler)

__all__ = ["profile", "record_function", "schedule", "supported_activities", "tensorboard_trace_handler",
           "ProfilerAction", "ProfilerActivity", "_KinetoProfile"]
