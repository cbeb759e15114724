"""``torch.profiler``: the profiler with activities, a step schedule and trace handlers.

It records the events of ``minitorch.autograd.profiler`` (see that module for where they come from and how they
are named) over the steps its ``schedule`` marks active, and hands each finished window to ``on_trace_ready``.
"""
import enum
import json
import os
import socket
import time
import warnings

from ..autograd import profiler as _prof
from ..autograd.function import _PROFILE

__all__ = ["ProfilerActivity", "ProfilerAction", "profile", "schedule", "tensorboard_trace_handler",
           "supported_activities"]


class ProfilerActivity(enum.Enum):
    """What to profile: ``CPU`` (op events) and ``CUDA`` (device time of ops on CUDA tensors, from CUDA events)."""
    CPU = 0
    XPU = 1
    MTIA = 2
    CUDA = 3
    HPU = 4
    PrivateUse1 = 5

    def __repr__(self):
        return f"<ProfilerActivity.{self.name}: {self.value}>"


class ProfilerAction(enum.Enum):
    """What the profiler does in a step: nothing, warm up (not recorded), record, or record and then hand the
    window to ``on_trace_ready``."""
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3


def supported_activities():
    """``{CPU}``, plus ``CUDA`` when a CUDA device is present."""
    acts = {ProfilerActivity.CPU}
    if _prof._cuda_is_available():
        acts.add(ProfilerActivity.CUDA)
    return acts


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """A schedule for ``profile(schedule=...)``: after ``skip_first`` steps, cycles of ``wait`` idle steps,
    ``warmup`` steps and ``active`` recorded steps (the last one ``RECORD_AND_SAVE``), ``repeat`` times (0: for as
    long as the profiler runs). ``skip_first_wait`` drops the first cycle's wait."""
    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(
            f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} (need >= 0), "
            f"active={active} (need > 0), repeat={repeat} (need >= 0), skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    cycle = wait + warmup + active

    def action(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        k = step - skip_first + (wait if skip_first_wait else 0)
        if repeat > 0 and k >= repeat * cycle:
            return ProfilerAction.NONE
        pos = k % cycle
        if pos < wait:
            return ProfilerAction.NONE
        if pos < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if pos < cycle - 1 else ProfilerAction.RECORD_AND_SAVE
    return action


def _default_schedule(step):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An ``on_trace_ready`` that writes each window to ``dir_name/<worker>.<time_ns>.pt.trace.json[.gz]``, the
    files TensorBoard's profile plugin lists (``worker`` defaults to ``<hostname>_<pid>``)."""
    def handler_fn(prof):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            name += ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, name))
    return handler_fn


class _KinetoProfile:
    """Recording without a schedule: ``start()``/``stop()`` and the reports (``profile`` adds the schedule)."""

    def __init__(self, *, activities=None, record_shapes=False, profile_memory=False, with_stack=False,
                 with_flops=False, with_modules=False, experimental_config=None, execution_trace_observer=None,
                 acc_events=False, custom_trace_id_callback=None):
        self.activities = set(activities) if activities else supported_activities()
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.profiler = None
        self._metadata = {}
        self._recording = False

    def _new_profiler(self):
        use_device = "cuda" if ProfilerActivity.CUDA in self.activities and _prof._cuda_is_available() else None
        return _prof.profile(use_device=use_device, record_shapes=self.record_shapes,
                             profile_memory=self.profile_memory, with_stack=self.with_stack,
                             with_flops=self.with_flops, with_modules=self.with_modules, acc_events=self.acc_events)

    def start(self):
        self._start_trace()

    def stop(self):
        self._stop_trace()

    def _start_trace(self):
        if self.profiler is None or not self.acc_events:
            self.profiler = self._new_profiler()
        self.profiler._start_trace()
        self._recording = True

    def _stop_trace(self):
        if self._recording:
            self.profiler._stop_trace()
            self._recording = False

    def _need_profiler(self):
        if self.profiler is None or self.profiler.function_events is None:
            raise AssertionError("Profiler must be initialized before exporting or reading its events")
        return self.profiler

    def events(self):
        """The recorded ``FunctionEvent``s of the last finished window (an ``EventList``)."""
        return self._need_profiler().function_events

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """Events averaged by name (and input shapes / stack): ``.table(sort_by=..., row_limit=...)`` prints them."""
        return self._need_profiler().key_averages(group_by_input_shape, group_by_stack_n, group_by_overload_name)

    def export_chrome_trace(self, path):
        """Chrome trace JSON of the last window (Perfetto, chrome://tracing, TensorBoard); ``.gz`` gzips it."""
        prof = self._need_profiler()
        d = _prof._trace_dict(prof.function_events, {"base_ns": prof._base_ns})
        d.update(self._metadata)
        _prof._write_trace(path, d)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        """Flame-graph lines ``frame;...;op value`` (needs ``with_stack=True``)."""
        self._need_profiler().export_stacks(path, metric)

    def add_metadata(self, key, value):
        """A string ``value`` stored under ``key`` at the top of the exported trace."""
        self._metadata[key] = value

    def add_metadata_json(self, key, value):
        """A JSON string ``value`` stored (parsed) under ``key`` at the top of the exported trace."""
        self._metadata[key] = json.loads(value)


class profile(_KinetoProfile):
    """Profile a block (``with profile(...) as prof:``) or ``start()``/``stop()``; ``prof.step()`` after each
    training step moves along ``schedule`` (default: record every step). ``on_trace_ready(prof)`` runs when a
    recorded window ends (and at exit while recording).

    Example::

        with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
            with record_function("model_inference"):
                model(inputs)
        print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    """

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None):
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning,
                          stacklevel=2)
            activities = set(activities or supported_activities())
            if use_cuda:
                activities.add(ProfilerActivity.CUDA)
            else:
                activities.discard(ProfilerActivity.CUDA)
        super().__init__(activities=activities, record_shapes=record_shapes, profile_memory=profile_memory,
                         with_stack=with_stack, with_flops=with_flops, with_modules=with_modules,
                         acc_events=acc_events)
        self.schedule = schedule if schedule is not None else _default_schedule
        self.record_steps = schedule is not None
        self.on_trace_ready = on_trace_ready
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self._step_ev = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _recording_action(self, action):
        return action in (ProfilerAction.RECORD, ProfilerAction.RECORD_AND_SAVE)

    def _open_step(self):
        rec = _PROFILE[0]
        if self._recording and rec is not None:
            # events() and key_averages() group the steps as "ProfilerStep*"; the trace names each step
            self._step_ev = rec.begin("ProfilerStep*", cat="user_annotation")
            self._step_ev.trace_name = f"ProfilerStep#{self.step_num}"

    def _close_step(self):
        if self._step_ev is not None:
            rec = _PROFILE[0]
            if rec is not None:
                rec.end(self._step_ev)
            self._step_ev = None

    def _finish_window(self):
        self._close_step()
        self._stop_trace()
        if self.on_trace_ready is not None:
            self.on_trace_ready(self)

    def start(self):
        self.current_action = self.schedule(self.step_num)
        if self._recording_action(self.current_action):
            self._start_trace()
            if self.record_steps:
                self._open_step()

    def stop(self):
        if self._recording:
            self._finish_window()

    def step(self):
        """Mark the end of a training step: move to the schedule's next action (and report a finished window)."""
        prev = self.current_action
        self._close_step()
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        if self._recording and (prev is ProfilerAction.RECORD_AND_SAVE or
                                not self._recording_action(self.current_action)):
            self._finish_window()
        if self._recording_action(self.current_action):
            if not self._recording:
                self._start_trace()
            self._open_step()
