"""``SummaryWriter`` and ``FileWriter``: PyTorch's TensorBoard logging API over tensorboard's own event writer.

Events are ``tensorboard.compat.proto.event_pb2.Event`` messages written by
``tensorboard.summary.writer.event_file_writer.EventFileWriter`` (a background thread, a bounded queue and
TensorBoard's record format), so any TensorBoard reads the files.
"""
import os
import socket
import time
from datetime import datetime

from tensorboard.compat.proto import event_pb2
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from . import summary as _summary
from .summary import make_np

__all__ = ["FileWriter", "SummaryWriter"]


class FileWriter:
    """Writes Event protocol buffers to one event file in ``log_dir`` (created on construction); a background
    thread flushes every ``flush_secs`` seconds or when ``max_queue`` events wait."""

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs, filename_suffix)

    def get_logdir(self):
        """The directory the event file is written to."""
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        """Stamp ``event`` with ``walltime`` (default now) and ``step`` (when given) and queue it."""
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None):
        """Queue a ``Summary`` wrapped in an ``Event``."""
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph(self, graph_profile, walltime=None):
        """Queue a ``(GraphDef, RunMetadata)`` pair: the graph event and the run metadata tagged ``step1``."""
        graph, stats = graph_profile
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)
        tagged = event_pb2.TaggedRunMetadata(tag="step1", run_metadata=stats.SerializeToString())
        self.add_event(Event(tagged_run_metadata=tagged), None, walltime)

    def add_onnx_graph(self, graph, walltime=None):
        """Queue a ready ``GraphDef``."""
        self.add_event(Event(graph_def=graph.SerializeToString()), None, walltime)

    def flush(self):
        """Write every queued event to disk."""
        self.event_writer.flush()

    def close(self):
        """Flush and close the event file."""
        self.event_writer.close()

    def reopen(self):
        """After ``close``: continue in a new event file in the same directory."""
        self.event_writer.reopen()


def _encode(raw):
    # an embedding tag becomes one directory name: escape '%', '/' and '\' as %xx
    return raw.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


class SummaryWriter:
    """Writes TensorBoard event files from a training loop, as ``torch.utils.tensorboard.SummaryWriter``.

    Args:
        log_dir: where the event files go; default ``runs/<Mon><DD>_<HH-MM-SS>_<hostname><comment>``.
        comment: suffix of the default ``log_dir`` (ignored when ``log_dir`` is given).
        purge_step: when resuming a crashed run, TensorBoard drops the events at or after this step from the
            earlier files of the directory.
        max_queue: events held in memory before a write is forced.
        flush_secs: how often the pending events are written to disk.
        filename_suffix: added to every event file name.

    Every ``add_*`` accepts minitorch tensors (any device: values on a GPU are copied to the host to be encoded),
    numpy arrays and python numbers.

    Example::

        >>> from minitorch.utils.tensorboard import SummaryWriter
        >>> with SummaryWriter("runs/exp1") as writer:
        ...     for step in range(100):
        ...         writer.add_scalar("Loss/train", 1.0 / (step + 1), step)
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10, flush_secs=120,
                 filename_suffix=""):
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _summary.default_bins()

    def _get_file_writer(self):
        """The writer of ``log_dir`` (a new one, in a new event file, after ``close``)."""
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs, self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                self.file_writer.add_event(Event(step=self.purge_step, file_version="brain.Event:2"))
                self.file_writer.add_event(Event(step=self.purge_step,
                                                 session_log=SessionLog(status=SessionLog.START)))
                self.purge_step = None
        return self.file_writer

    def get_logdir(self):
        """The directory event files are written to."""
        return self.log_dir

    # ------------------------------------------------------------------------------------------------------------
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number (a python number, a one-element tensor or array) under ``tag`` at ``global_step``."""
        self._get_file_writer().add_summary(
            _summary.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision),
            global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers on one chart: each ``tag`` goes to its own run
        ``<log_dir>/<main_tag>_<tag>`` (``/`` in ``main_tag`` becomes ``_``), all under the tag ``main_tag``."""
        walltime = time.time() if walltime is None else walltime
        base = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            path = base + "/" + main_tag.replace("/", "_") + "_" + tag
            fw = self.all_writers.get(path)
            if fw is None:
                fw = self.all_writers[path] = FileWriter(path, self.max_queue, self.flush_secs, self.filename_suffix)
            fw.add_summary(_summary.scalar(main_tag, value), global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        """Log a whole tensor as a ``TensorProto`` (read back with ``EventAccumulator.Tensors``)."""
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.util.tensor_util import make_tensor_proto
        proto = make_tensor_proto(make_np(tensor))
        self._get_file_writer().add_summary(Summary(value=[Summary.Value(tag=tag, tensor=proto)]),
                                            global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None, max_bins=None):
        """Log the distribution of ``values``. ``bins`` is numpy's (edges, a count, or a rule such as ``'auto'``);
        the default ``'tensorflow'`` uses TensorBoard's exponential buckets."""
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._get_file_writer().add_summary(_summary.histogram(tag, values, bins, max_bins=max_bins),
                                            global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,  # noqa: A002
                          global_step=None, walltime=None):
        """Log a histogram from ready statistics and buckets (``bucket_limits`` are right edges)."""
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        self._get_file_writer().add_summary(
            _summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts),
            global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log one image, laid out as ``dataformats`` (``'CHW'``, ``'HWC'``, ``'HW'`` ...; 1 or 3 channels, or 4 in
        HWC). Floats are read as [0, 1], uint8 as [0, 255]; stored as PNG."""
        self._get_file_writer().add_summary(_summary.image(tag, img_tensor, dataformats=dataformats),
                                            global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None, dataformats="NCHW"):
        """Log a batch of images as one grid image (8 per row), laid out as ``dataformats`` (``'NCHW'``,
        ``'NHWC'`` ...)."""
        self._get_file_writer().add_summary(_summary.image(tag, img_tensor, dataformats=dataformats),
                                            global_step, walltime)

    def add_image_with_boxes(self, tag, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1,
                             dataformats="CHW", labels=None):
        """Log an image with boxes drawn on it: ``box_tensor`` is N x 4 (xmin, ymin, xmax, ymax in pixels),
        ``labels`` one string per box (ignored when the count differs)."""
        if labels is not None:
            if isinstance(labels, str):
                labels = [labels]
            if len(labels) != make_np(box_tensor).reshape(-1, 4).shape[0]:
                labels = None
        self._get_file_writer().add_summary(
            _summary.image_boxes(tag, img_tensor, box_tensor, rescale=rescale, dataformats=dataformats,
                                 labels=labels), global_step, walltime)

    def add_video(self, tag, vid_tensor, global_step=None, fps=4, walltime=None):
        """Log ``vid_tensor`` (N x T x C x H x W; float in [0, 1] or uint8) as an animated GIF, clips tiled in a
        grid. PyTorch encodes the GIF with moviepy; minitorch with Pillow."""
        self._get_file_writer().add_summary(_summary.video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Log a mono clip (samples in [-1, 1]) as 16-bit WAV."""
        self._get_file_writer().add_summary(_summary.audio(tag, snd_tensor, sample_rate=sample_rate),
                                            global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Log a matplotlib figure (or a list of figures, as a grid) rendered with the Agg canvas; ``close``
        closes it afterwards."""
        image = _summary.figure_to_image(figure, close)
        if isinstance(figure, list):
            self.add_images(tag, image, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, image, global_step, walltime, dataformats="CHW")

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a (markdown) string; TensorBoard's text plugin shows it under ``<tag>/text_summary``."""
        self._get_file_writer().add_summary(_summary.text(tag, text_string), global_step, walltime)

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Trace ``model(*input_to_model)`` once and log its graph for TensorBoard's Graphs tab: one node per
        differentiable op inside the scope of the module that ran it (``Net/Linear[fc1]/addmm_0``), the parameters
        (``Net/Linear[fc1]/weight``), ``input/input.<i>`` and ``output/output.<i>``, with output shapes.
        ``verbose`` prints the nodes. ``use_strict_trace`` is accepted for PyTorch compatibility (nothing is
        compiled). Ops on values that need no gradient (integer indexing, comparisons) are not recorded."""
        from ._graph import graph
        self._get_file_writer().add_graph(graph(model, input_to_model, verbose))

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag="default",
                      metadata_header=None):
        """Write projector files for ``mat`` (N x D) under ``<log_dir>/<step:05d>/<tag>/``: ``tensors.tsv``,
        ``metadata.tsv`` (``metadata``: N labels, or rows under ``metadata_header``), ``sprite.png`` (from
        ``label_img``, N x C x H x W in [0, 1]) and the shared ``<log_dir>/projector_config.pbtxt``."""
        from google.protobuf import text_format
        from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{_encode(tag)}"
        logdir = self._get_file_writer().get_logdir()
        save_path = os.path.join(logdir, subdir)
        if os.path.exists(save_path):
            if not os.path.isdir(save_path):
                raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        else:
            os.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            if metadata_header:
                if len(metadata_header) != len(metadata[0]):
                    raise AssertionError("len of header must be equal to the number of columns in metadata")
                lines = ["\t".join(str(e) for e in row) for row in [metadata_header] + list(metadata)]
            else:
                lines = [str(m) for m in metadata]
            with open(os.path.join(save_path, "metadata.tsv"), "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        if label_img is not None:
            label_img = make_np(label_img)
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            self._write_sprite(label_img, save_path)
        if mat.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")
        with open(os.path.join(save_path, "tensors.tsv"), "w", encoding="utf-8") as f:
            for row in mat:
                f.write("\t".join(str(v.item()) for v in row) + "\n")

        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        info = EmbeddingInfo(tensor_name=f"{tag}:{str(global_step).zfill(5)}", tensor_path=subdir + "/tensors.tsv")
        if metadata is not None:
            info.metadata_path = subdir + "/metadata.tsv"
        if label_img is not None:
            info.sprite.image_path = subdir + "/sprite.png"
            info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
        self._projector_config.embeddings.append(info)
        with open(os.path.join(logdir, "projector_config.pbtxt"), "w", encoding="utf-8") as f:
            f.write(text_format.MessageToString(self._projector_config))

    @staticmethod
    def _write_sprite(label_img, save_path):
        # the projector wants a square sprite of square-count cells: pad the grid with black rows
        from PIL import Image
        import numpy as np
        n = label_img.shape[0]
        side = int(np.ceil(n ** 0.5))
        grid = _summary.make_grid(label_img, ncols=side).transpose(1, 2, 0)
        square = np.zeros((grid.shape[1], grid.shape[1], 3))
        square[:grid.shape[0]] = grid
        Image.fromarray(np.uint8((square * 255).clip(0, 255))).save(os.path.join(save_path, "sprite.png"))

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127, weights=None,
                     walltime=None):
        """Log a precision-recall curve of binary ``labels`` against ``predictions`` in [0, 1] at
        ``num_thresholds`` (at most 127) thresholds."""
        self._get_file_writer().add_summary(
            _summary.pr_curve(tag, labels, predictions, num_thresholds, weights), global_step, walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts, true_negative_counts,
                         false_negative_counts, precision, recall, global_step=None, num_thresholds=127,
                         weights=None, walltime=None):
        """Log a precision-recall curve from ready counts (one value per threshold each)."""
        self._get_file_writer().add_summary(
            _summary.pr_curve_raw(tag, make_np(true_positive_counts), make_np(false_positive_counts),
                                  make_np(true_negative_counts), make_np(false_negative_counts),
                                  make_np(precision), make_np(recall), num_thresholds),
            global_step, walltime)

    def add_custom_scalars(self, layout):
        """Log the Custom Scalars dashboard's layout: ``{category: {chart title: ['Multiline', [tags]]}}`` or
        ``['Margin', [value, lower, upper]]``."""
        self._get_file_writer().add_summary(_summary.custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        """One multi-line chart of ``tags`` in the Custom Scalars dashboard."""
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        """One margin chart (value, lower, upper tags) in the Custom Scalars dashboard."""
        if len(tags) != 3:
            raise AssertionError("len(tags) != 3")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None, run_name=None, global_step=None):
        """Log one trial for the HParams dashboard: a sub-run ``<log_dir>/<run_name>`` (default: the current
        time) holding the experiment, session-start and session-end summaries and each metric as a scalar.
        Values may be bool, str, int, float, None (skipped) or one-element tensors."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        exp, ssi, sei = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as w:
            for s in (exp, ssi, sei):
                w.file_writer.add_summary(s, global_step)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    # ------------------------------------------------------------------------------------------------------------
    def flush(self):
        """Write every pending event of every run of this writer to disk."""
        if self.all_writers is None:
            return
        for w in self.all_writers.values():
            w.flush()

    def close(self):
        """Flush and close every event file; a later ``add_*`` starts new files."""
        if self.all_writers is None:
            return
        for w in self.all_writers.values():
            w.flush()
            w.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
