"""A generic, strategy-aware custom training loop with checkpoints, resume and TensorBoard.

Why not ``keras.Model.fit``: Keras 3 ``fit`` fails under ``MultiWorkerMirroredStrategy``
(keras-team/keras#20585), so the loop is written with ``strategy.run`` and works unchanged under
the default strategy, ``MirroredStrategy`` and ``MultiWorkerMirroredStrategy``.

A run folder holds:

- ``config.yaml``: the resolved config (stage config + training config + anything the caller
  passes), written at the first sitting and checked on resume;
- ``checkpoints/``: ``tf.train.CheckpointManager`` checkpoints of model, optimizer and step,
  saved every ``checkpoint_every_steps`` steps or ``checkpoint_every_seconds`` seconds, at the
  end, and on SIGTERM/SIGINT (a session stopped without warning loses minutes, not the run);
- ``tb/``: TensorBoard scalars (loss, learning rate, steps/s, validation loss);
- ``run.json``: steps done, wall time summed over sittings, hardware of every sitting.

Resuming restores the checkpoint and asks the caller's ``dataset_fn(start_step)`` for the data
stream from that step, so a resumed run sees exactly the batches an uninterrupted run would
(the data recipes of tfraw index elements by ``(seed, element)``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import platform
import shutil
import signal
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import keras
import tensorflow as tf

from tfraw.errors import InputError

__all__ = [
    "TrainConfig",
    "Trainer",
    "WarmupCosine",
    "describe_hardware",
    "dtype_policy",
    "float32_model",
    "find_keras_model",
    "make_strategy",
    "restore_model_weights",
]

_STRATEGIES = ("default", "mirrored", "multiworker")
# float16 would need dynamic loss scaling; bfloat16 (same exponent range as float32) does not.
PRECISIONS = ("float32", "mixed_bfloat16")


@contextlib.contextmanager
def dtype_policy(name: str):
    """Builds models under the Keras dtype policy ``name``, restoring the previous one after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Schedule and bookkeeping of a training run (the ``train:`` section of a training YAML).

    Attributes:
        steps: total optimizer steps.
        learning_rate: peak Adam learning rate, reached after ``warmup_steps`` linear warm-up,
            then cosine-decayed to ``min_learning_rate`` at ``steps``.
        clipnorm: global gradient-norm clip (0 = none).
        strategy: ``"default"``, ``"mirrored"`` (all local GPUs) or ``"multiworker"``
            (``TF_CONFIG``).
        seed: data and initialization seed.
        checkpoint_every_steps / checkpoint_every_seconds: save when either is reached.
        keep_checkpoints: checkpoints kept by the manager.
        log_every: steps between TensorBoard / progress updates.
        val_every: steps between validation passes (0 = never); ``val_batches`` batches each.
        intra_op_threads / inter_op_threads: TensorFlow thread pools (0 = TF's default).
        progress: show a tqdm bar.
        init_from: warm start: an exported stage folder (``saved_models/<name>/<version>``,
            whose ``assets/unfolded.keras`` or ``assets/model.keras`` is read) or a ``.keras``
            file; its weights are loaded into the freshly built model before step 0. A new
            cosine cycle then runs for ``steps``. Ignored when a run resumes (the checkpoint
            holds the weights). "" = train from scratch.
        precision: ``"float32"`` or ``"mixed_bfloat16"``: the Keras dtype policy the model is
            built under. With ``mixed_bfloat16`` the layers that follow the global policy (the
            convolutions) compute in bfloat16 while variables, optimizer state and the layers a
            stage pins to float32 (colour transforms, the classical base, residual additions,
            outputs) stay float32; no loss scaling is needed (bfloat16 has float32's exponent).
            Worth it where the hardware has bfloat16 matrix units: on a 2-core Intel Xeon with AMX
            the X-Trans demosaic recipe trained 1.8x faster than in float32
            (``benchmarks/train_precision.py``). Exports are always
            float32 (the weights are float32 already). Resuming may switch it.
    """

    steps: int = 1000
    learning_rate: float = 1e-3
    min_learning_rate: float = 1e-5
    warmup_steps: int = 100
    clipnorm: float = 1.0
    strategy: str = "default"
    seed: int = 0
    checkpoint_every_steps: int = 500
    checkpoint_every_seconds: float = 180.0
    keep_checkpoints: int = 3
    log_every: int = 25
    val_every: int = 0
    val_batches: int = 4
    intra_op_threads: int = 0
    inter_op_threads: int = 0
    progress: bool = True
    init_from: str = ""
    precision: str = "float32"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise InputError(
                f"TrainConfig.precision must be one of {PRECISIONS}, got {self.precision!r}"
            )
        if not isinstance(self.steps, int) or self.steps < 0:
            raise InputError(f"TrainConfig.steps must be an integer >= 0, got {self.steps!r}")
        if self.strategy not in _STRATEGIES:
            raise InputError(
                f"TrainConfig.strategy must be one of {_STRATEGIES}, got {self.strategy!r}"
            )
        if not float(self.learning_rate) > 0 or float(self.min_learning_rate) < 0:
            raise InputError(
                f"TrainConfig learning rates must be > 0 and >= 0, got "
                f"{self.learning_rate!r}, {self.min_learning_rate!r}"
            )
        for name in ("checkpoint_every_steps", "keep_checkpoints", "log_every"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> TrainConfig:
        values = dict(values or {})
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InputError(f"TrainConfig: unknown field(s) {unknown}; known: {sorted(known)}")
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        for name, value in list(values.items()):
            if types[name] in ("float", float) and isinstance(value, int | str):
                values[name] = float(value)
        return cls(**values)


class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup`` steps, then cosine decay to ``floor``."""

    def __init__(self, peak: float, floor: float, warmup: int, total: int):
        self.peak, self.floor, self.warmup, self.total = (
            float(peak),
            float(floor),
            int(warmup),
            int(total),
        )

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warm = self.peak * (step + 1.0) / max(self.warmup, 1)
        progress = tf.clip_by_value(
            (step - self.warmup) / max(self.total - self.warmup, 1), 0.0, 1.0
        )
        cosine = self.floor + 0.5 * (self.peak - self.floor) * (1.0 + tf.cos(math.pi * progress))
        return tf.where(step < self.warmup, warm, cosine)

    def get_config(self):
        return {"peak": self.peak, "floor": self.floor, "warmup": self.warmup, "total": self.total}


def make_strategy(name: str) -> tf.distribute.Strategy:
    """``"default"`` -> the default strategy, ``"mirrored"``, ``"multiworker"`` (TF_CONFIG)."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise InputError(f"strategy must be one of {_STRATEGIES}, got {name!r}")


def describe_hardware() -> dict[str, Any]:
    """CPU count (usable by this process), GPUs and a one-line description."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
    processor = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                processor = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{cpus}-core CPU" + (f", {len(gpus)} GPU" if gpus else ", no GPU")
    return {"description": text, "cpu_cores": cpus, "cpu": processor, "gpus": gpus,
            "tensorflow": tf.__version__, "keras": keras.__version__}  # fmt: skip


def _is_chief(strategy: tf.distribute.Strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type in ("chief", None) or (
        resolver.task_type == "worker" and resolver.task_id == 0
    )


class Trainer:
    """Custom training loop: ``fit()`` trains until ``config.steps`` (or ``until``).

    Args:
        build_model: ``() -> keras.Model``, called inside the strategy scope.
        loss_fn: ``(y_true, y_pred) -> (B,)`` per-example loss.
        dataset_fn: ``(start_step) -> tf.data.Dataset`` of ``(inputs, target)`` *global*
            batches, starting at batch ``start_step``.
        config: the :class:`TrainConfig`.
        run_dir: the run folder (created).
        resume: continue from the latest checkpoint in ``run_dir``; without it a folder that
            already holds checkpoints is refused (no silent overwrite).
        resolved_config: the full resolved config written to ``config.yaml``.
        val_dataset_fn: like ``dataset_fn`` for validation (used when ``val_every > 0``).
    """

    def __init__(
        self,
        build_model: Callable[[], keras.Model],
        loss_fn: Callable,
        dataset_fn: Callable[[int], tf.data.Dataset],
        config: TrainConfig,
        run_dir: str | os.PathLike,
        resume: bool = False,
        resolved_config: Mapping[str, Any] | None = None,
        val_dataset_fn: Callable[[int], tf.data.Dataset] | None = None,
    ):
        self.config = config
        self.run_dir = Path(run_dir)
        self.loss_fn = loss_fn
        self.dataset_fn = dataset_fn
        self.val_dataset_fn = val_dataset_fn
        if config.intra_op_threads:
            _set_threads(config.intra_op_threads, config.inter_op_threads)
        self.strategy = make_strategy(config.strategy)
        self.chief = _is_chief(self.strategy)
        created = not self.run_dir.exists()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        checkpoint_dir = self.run_dir / "checkpoints"
        if not self.chief:  # non-chief workers write throw-away checkpoints (MWMS protocol)
            checkpoint_dir = self.run_dir / f"worker_tmp_{self.strategy.cluster_resolver.task_id}"
        existing = tf.train.latest_checkpoint(str(checkpoint_dir))
        if existing and not resume:
            raise InputError(
                f"{self.run_dir} already holds checkpoints ({existing}); pass resume=True "
                "(--resume) to continue it or choose another run folder"
            )
        keras.utils.set_random_seed(config.seed)
        with self.strategy.scope():
            with dtype_policy(config.precision):
                self.model = build_model()
            schedule = WarmupCosine(config.learning_rate, config.min_learning_rate,
                                    config.warmup_steps, config.steps)  # fmt: skip
            self.optimizer = keras.optimizers.Adam(
                learning_rate=schedule, global_clipnorm=config.clipnorm or None
            )
            self.optimizer.build(self.model.trainable_variables)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        # Keras 3 models do not expose their variables to TF's object-based checkpoints by
        # themselves; list them explicitly so a checkpoint restores a model without optimizer.
        self.checkpoint = tf.train.Checkpoint(
            model=self.model, model_weights=list(self.model.weights), optimizer=self.optimizer,
            step=self.step,
        )  # fmt: skip
        self.manager = tf.train.CheckpointManager(
            self.checkpoint, str(checkpoint_dir), max_to_keep=config.keep_checkpoints
        )
        self.resumed_from = None
        if existing and resume:
            self.checkpoint.restore(existing).assert_existing_objects_matched()
            self.resumed_from = existing
        elif config.init_from:
            try:
                self._warm_start(config.init_from)
            except InputError:
                if created:  # a refused warm start leaves no run folder behind
                    shutil.rmtree(self.run_dir, ignore_errors=True)
                raise
        self._write_config(resolved_config, resume)
        self._stop_requested = False
        self._train_step = None

    def _warm_start(self, source: str) -> None:
        """Loads ``source``'s weights (see ``TrainConfig.init_from``) and records where they
        came from in ``init_from.json`` (its metadata, so an export can sum steps and time)."""
        path = find_keras_model(source)
        # A model may know how to grow an older architecture into its own (the denoiser's
        # ratio input, width and depth: DenoiseModel.load_warm_start); others load the weights
        # as they are.
        load = getattr(self.model, "load_warm_start", self.model.load_weights)
        try:
            load(path)
        except ValueError as err:  # another architecture (config) than the one being trained
            raise InputError(
                f"train.init_from {source}: {path} does not fit the model this config builds "
                f"({err})"
            ) from None
        meta_path = Path(source) / "assets" / "metadata.json"
        meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
        record = {"path": str(source), "keras_file": str(path),
                  **{k: meta.get(k) for k in ("steps", "wall_seconds", "total_steps",
                                              "total_wall_seconds", "schedule", "hardware",
                                              "metrics", "init_from") if k in meta}}  # fmt: skip
        if self.chief:
            (self.run_dir / "init_from.json").write_text(json.dumps(record, indent=2))

    # -- bookkeeping ------------------------------------------------------------------------
    def _write_config(self, resolved: Mapping[str, Any] | None, resume: bool) -> None:
        if not self.chief:
            return
        import yaml

        payload = dict(resolved or {})
        payload.setdefault("train", self.config.to_dict())
        path = self.run_dir / "config.yaml"
        text = yaml.safe_dump(_plain(payload), sort_keys=True)
        if resume and path.exists() and path.read_text() != text:
            # Keep the history: the first sitting's config stays, the new one is added beside.
            (self.run_dir / f"config.resumed_{int(self.step.numpy())}.yaml").write_text(text)
        else:
            path.write_text(text)

    def _read_run(self) -> dict[str, Any]:
        path = self.run_dir / "run.json"
        return (
            json.loads(path.read_text()) if path.exists() else {"wall_seconds": 0.0, "sittings": []}
        )

    def _write_run(self, run: dict[str, Any]) -> None:
        if not self.chief:
            return
        from tfraw.io.atomic import atomic_write

        with atomic_write(self.run_dir / "run.json") as tmp:
            Path(tmp).write_text(json.dumps(run, indent=2) + "\n")

    def save(self) -> str | None:
        """Saves a checkpoint at the current step (every worker takes part, as MWMS requires)."""
        return self.manager.save(checkpoint_number=int(self.step.numpy()))

    # -- the step ---------------------------------------------------------------------------
    def _make_train_step(self):
        model, optimizer, loss_fn, strategy = (
            self.model,
            self.optimizer,
            self.loss_fn,
            self.strategy,
        )

        def replica_step(inputs, target):
            with tf.GradientTape() as tape:
                prediction = _as_float32(model(inputs, training=True))
                per_example = loss_fn(target, prediction)
                loss = tf.nn.compute_average_loss(per_example)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables, strict=True))
            return loss

        @tf.function
        def train_step(inputs, target):
            per_replica = strategy.run(replica_step, args=(inputs, target))
            self.step.assign_add(1)
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        return train_step

    def _make_eval_step(self):
        model, loss_fn, strategy = self.model, self.loss_fn, self.strategy

        @tf.function
        def eval_step(inputs, target):
            def replica(inputs, target):
                prediction = _as_float32(model(inputs, training=False))
                return tf.nn.compute_average_loss(loss_fn(target, prediction))

            per_replica = strategy.run(replica, args=(inputs, target))
            return strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None)

        return eval_step

    def evaluate(self, batches: int | None = None) -> float | None:
        """Mean validation loss over ``batches`` batches (None without a validation dataset)."""
        if self.val_dataset_fn is None:
            return None
        batches = batches or self.config.val_batches
        eval_step = self._make_eval_step()
        dataset = self.strategy.experimental_distribute_dataset(
            self.val_dataset_fn(0).take(batches)
        )
        losses = [float(eval_step(x, y)) for x, y in dataset]
        return sum(losses) / max(len(losses), 1)

    # -- the loop ---------------------------------------------------------------------------
    def _on_signal(self, signum, frame) -> None:
        self._stop_requested = True

    def fit(self, until: int | None = None) -> dict[str, Any]:
        """Trains from the current step to ``until`` (default ``config.steps``).

        Returns:
            The ``run.json`` record: ``steps``, ``wall_seconds`` (all sittings), ``hardware``,
            ``last_loss``, ``val_loss``, ``sittings``.
        """
        from tqdm import tqdm

        config = self.config
        target = min(config.steps if until is None else int(until), config.steps)
        start = int(self.step.numpy())
        run = self._read_run()
        hardware = describe_hardware()
        sitting = {
            "id": uuid.uuid4().hex,
            "start_step": start,
            "hardware": hardware,
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if start >= target:
            return {**run, "steps": start}
        writer = tf.summary.create_file_writer(str(self.run_dir / "tb")) if self.chief else None
        dataset = self.strategy.experimental_distribute_dataset(self.dataset_fn(start))
        self._train_step = self._train_step or self._make_train_step()
        previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        in_main_thread = _main_thread()
        if in_main_thread:
            for s in previous:
                signal.signal(s, self._on_signal)
        began = time.time()
        last_save = began
        last_log_time, last_log_step = began, start
        loss_value = float("nan")
        val_loss = None
        bar = tqdm(total=target, initial=start, disable=not (config.progress and self.chief),
                   unit="step", dynamic_ncols=True, mininterval=5.0)  # fmt: skip
        try:
            for inputs, batch_target in dataset:
                loss_value = self._train_step(inputs, batch_target)
                step = int(self.step.numpy())
                bar.update(1)
                if step % config.log_every == 0 or step == target:
                    loss_value = float(loss_value)
                    if not math.isfinite(loss_value):
                        raise FloatingPointError(f"loss is {loss_value} at step {step}")
                    now = time.time()
                    rate = (step - last_log_step) / max(now - last_log_time, 1e-9)
                    last_log_time, last_log_step = now, step
                    bar.set_postfix(loss=f"{loss_value:.4f}", refresh=False)
                    if writer is not None:
                        with writer.as_default(step=step):
                            _scalar("loss", loss_value)
                            _scalar("learning_rate", float(self.optimizer.learning_rate))
                            _scalar("steps_per_second", rate)
                if config.val_every and step % config.val_every == 0:
                    val_loss = self.evaluate()
                    if writer is not None and val_loss is not None:
                        with writer.as_default(step=step):
                            _scalar("val_loss", val_loss)
                due = (step % config.checkpoint_every_steps == 0
                       or time.time() - last_save >= config.checkpoint_every_seconds)  # fmt: skip
                if due or step >= target or self._stop_requested:
                    self.save()
                    last_save = time.time()
                    run = self._record(run, sitting, began, float(loss_value), val_loss)
                if step >= target or self._stop_requested:
                    break
        finally:
            bar.close()
            if in_main_thread:
                for s, handler in previous.items():
                    signal.signal(s, handler)
            if writer is not None:
                writer.flush()
        return self._record(run, sitting, began, float(loss_value), val_loss, final=True)

    def _record(self, run, sitting, began, loss_value, val_loss, final: bool = False) -> dict:
        elapsed = time.time() - began
        sittings = [s for s in run.get("sittings", []) if s.get("id") != sitting["id"]]
        sittings.append({**sitting, "end_step": int(self.step.numpy()), "wall_seconds": elapsed})
        previous = sum(s["wall_seconds"] for s in sittings[:-1])
        record = {
            "steps": int(self.step.numpy()),
            "target_steps": self.config.steps,
            "wall_seconds": previous + elapsed,
            "hardware": sitting["hardware"],
            "last_loss": loss_value,
            "val_loss": val_loss,
            "stopped_early": bool(self._stop_requested),
            "sittings": sittings,
        }
        self._write_run(record)
        return record


def _scalar(tag: str, value: float) -> None:
    """A TensorBoard scalar, written with TF's own summary op.

    ``tf.summary.scalar`` needs the ``tensorboard`` package installed; the raw ``tf.summary.write``
    with the scalars plugin's metadata writes the same event without it.
    """
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = "scalars"
    tf.summary.write(tag, tf.constant(float(value), tf.float32), metadata=metadata)


def find_keras_model(path: str | os.PathLike) -> Path:
    """The ``.keras`` file of ``path``: the file itself, or in an export folder
    ``assets/unfolded.keras`` (a reparameterized model before folding) before
    ``assets/model.keras``."""
    path = Path(path)
    for candidate in (path, path / "assets" / "unfolded.keras", path / "assets" / "model.keras",
                      path / "model.keras"):  # fmt: skip
        if candidate.is_file() and candidate.suffix == ".keras":
            return candidate
    raise InputError(f"no model at {path} (expected a .keras file or an export folder)")


def restore_model_weights(model: keras.Model, checkpoint_path: str) -> None:
    """Loads a :class:`Trainer` checkpoint's weights into ``model`` (no optimizer needed).

    Checkpoints written before ``model_weights`` was tracked hold the weights only through
    the optimizer; for those an Adam optimizer is built to restore them.
    """
    reader = tf.train.load_checkpoint(checkpoint_path)
    if any(k.startswith("model_weights/") for k in reader.get_variable_to_shape_map()):
        tf.train.Checkpoint(model_weights=list(model.weights)).restore(
            checkpoint_path
        ).assert_existing_objects_matched().expect_partial()
        return
    # Same variable layout as the trainer's optimizer (a schedule: no learning-rate variable).
    optimizer = keras.optimizers.Adam(learning_rate=WarmupCosine(1.0, 0.0, 1, 2))
    optimizer.build(model.trainable_variables)
    tf.train.Checkpoint(model=model, optimizer=optimizer).restore(checkpoint_path).expect_partial()


def restore_run_checkpoint(model: keras.Model, run_dir: str | os.PathLike,
                           step: int | str | None = None) -> str:  # fmt: skip
    """Restores a training run's checkpoint into ``model``; returns the checkpoint path.

    Args:
        model: built from the run's stage config.
        run_dir: the run folder (``<run_dir>/checkpoints/ckpt-<step>``).
        step: the checkpoint of that step; None: the latest.

    Raises:
        MissingModelError: no such checkpoint.
    """
    from tfraw.errors import MissingModelError

    folder = Path(run_dir) / "checkpoints"
    if step is None or step == "":
        checkpoint = tf.train.latest_checkpoint(str(folder))
    else:
        checkpoint = str(folder / f"ckpt-{int(step)}")
    if checkpoint is None or not Path(checkpoint + ".index").is_file():
        found = sorted(p.stem for p in folder.glob("ckpt-*.index")) if folder.is_dir() else []
        which = "any checkpoint" if step in (None, "") else f"ckpt-{step}"
        raise MissingModelError(f"{run_dir}: no {which} under {folder} (found: {found or 'none'})")
    restore_model_weights(model, checkpoint)
    return checkpoint


def float32_model(model: keras.Model, build_model: Callable[[], keras.Model]) -> keras.Model:
    """``model`` itself when all its layers compute in float32, else a float32 rebuild
    (``build_model()`` under the float32 policy) holding the same weights: what is saved and
    exported after a ``mixed_bfloat16`` run (its variables are float32 already)."""
    if all(layer.compute_dtype == "float32" for layer in model.layers
           if not isinstance(layer, keras.layers.InputLayer)):  # fmt: skip
        return model
    with dtype_policy("float32"):
        rebuilt = build_model()
    rebuilt.set_weights(model.get_weights())
    return rebuilt


def _as_float32(outputs):
    """Model outputs cast to float32 for the loss (a no-op for float32 models)."""
    return tf.nest.map_structure(
        lambda t: tf.cast(t, tf.float32) if t.dtype.is_floating else t, outputs
    )


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _set_threads(intra: int, inter: int) -> None:
    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(intra))
        tf.config.threading.set_inter_op_parallelism_threads(int(inter or intra))
    except RuntimeError:  # TF already initialized: keep its pools
        pass


def _plain(value):
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
