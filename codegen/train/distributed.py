"""Multi-worker training (``codegen train --distribute multi-worker``) on ``tf.distribute``.

TensorFlow's :class:`tf.distribute.MultiWorkerMirroredStrategy` does the work: every worker runs the same
program, gradients are all-reduced after every step, so all workers hold the same model. This module only

* reads the cluster from ``TF_CONFIG`` (what Kubernetes' TFJob, Vertex AI or a hand-written launcher set), or
  writes it from ``--workers host:port,host:port --worker-index I`` (:func:`configure`);
* creates the strategy before TensorFlow's runtime starts (collective ops must be configured first);
* feeds Keras a ``tf.data`` pipeline sharded by data (``AutoShardPolicy.DATA``: every worker reads the same
  shuffled global batch and keeps its part, so ``--batch-size`` is the global batch, as without a cluster);
* adds ``BackupAndRestore`` so that a worker that failed and is restarted resumes from the last epoch;
* decides who writes: the chief (task ``chief``, or worker 0 when the cluster has none) writes models and
  reports into ``--out``; the other workers write into a temporary folder that is deleted at the end.

See docs/distributed-training.md for several hosts and for a cluster manager that sets ``TF_CONFIG``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.errors import CodegenError

log = logging.getLogger(__name__)

_ADDRESS = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")


@dataclass(frozen=True)
class Cluster:
    """This process's place in the cluster described by ``TF_CONFIG``."""

    workers: int
    task_type: str
    task_index: int
    has_chief: bool = False               # the cluster names a "chief" task (else worker 0 is the chief)

    @property
    def is_chief(self) -> bool:
        return self.task_type == "chief" or (self.task_type == "worker" and self.task_index == 0
                                             and not self.has_chief)

    def describe(self) -> str:
        return f"{self.task_type} {self.task_index} of {self.workers} workers" + (" (chief)" if self.is_chief else "")


def configure(workers: str | None, worker_index: int | None) -> None:
    """Write ``TF_CONFIG`` from ``--workers`` and ``--worker-index`` (both or neither; without them an existing
    ``TF_CONFIG`` is used)."""
    if workers is None and worker_index is None:
        return
    if workers is None or worker_index is None:
        raise CodegenError("--workers and --worker-index go together",
                           hint="e.g. --workers 10.0.0.1:12345,10.0.0.2:12345 --worker-index 0 (1 on the second host)")
    hosts = [w.strip() for w in workers.split(",") if w.strip()]
    bad = [h for h in hosts if not _ADDRESS.match(h)]
    if not hosts or bad:
        raise CodegenError(f"--workers {workers!r} is not a list of host:port",
                           hint="e.g. --workers 10.0.0.1:12345,10.0.0.2:12345")
    if len(set(hosts)) != len(hosts):
        raise CodegenError(f"--workers names an address twice: {workers}", hint="give every worker its own host:port")
    if not 0 <= worker_index < len(hosts):
        raise CodegenError(f"--worker-index {worker_index} is not one of the {len(hosts)} workers",
                           hint=f"use 0 to {len(hosts) - 1}; 0 is the chief")
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": hosts},
                                          "task": {"type": "worker", "index": worker_index}})


def cluster() -> Cluster:
    """The cluster in ``TF_CONFIG``; a clear error when it is missing or malformed."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw:
        raise CodegenError("--distribute multi-worker needs a cluster: TF_CONFIG is not set",
                           hint="pass --workers host:port,host:port --worker-index I, or set TF_CONFIG "
                           "(docs/distributed-training.md)")
    try:
        data = json.loads(raw)
        spec = data["cluster"]
        task_type = str(data["task"]["type"])
        task_index = int(data["task"]["index"])
        workers = len(spec.get("worker", [])) + len(spec.get("chief", []))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise CodegenError("TF_CONFIG is not valid: it needs cluster.worker and task.type/task.index",
                           hint='e.g. {"cluster": {"worker": ["h1:12345", "h2:12345"]}, '
                           '"task": {"type": "worker", "index": 0}}') from None
    if task_type not in ("worker", "chief"):
        raise CodegenError(f"TF_CONFIG task type {task_type!r} does not train",
                           hint="MultiWorkerMirroredStrategy runs tasks of type worker (and one chief)")
    members = spec.get(task_type, [])
    if not 0 <= task_index < len(members):
        raise CodegenError(f"TF_CONFIG task index {task_index} is not in cluster.{task_type} ({len(members)} entries)",
                           hint="set task.index to this host's position in the list")
    return Cluster(workers, task_type, task_index, has_chief=bool(spec.get("chief")))


def make_strategy() -> tuple[Any, Cluster]:
    """The MultiWorkerMirroredStrategy for this process (call before TensorFlow creates any tensor)."""
    from codegen.train.tfenv import tf

    where = cluster()
    t = tf()
    options = t.distribute.experimental.CommunicationOptions(
        implementation=t.distribute.experimental.CommunicationImplementation.RING)
    strategy = t.distribute.MultiWorkerMirroredStrategy(communication_options=options)
    log.info("multi-worker training: %s, %d replicas in sync", where.describe(), strategy.num_replicas_in_sync)
    return strategy, where


def sharded(x: Any, y: Any, batch_size: int, seed: int, *, shuffle: bool) -> Any:
    """A ``tf.data`` pipeline over in-memory arrays, sharded by data across the workers (global batches)."""
    from codegen.train.tfenv import tf

    t = tf()
    ds = t.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    options = t.data.Options()
    options.experimental_distribute.auto_shard_policy = t.data.experimental.AutoShardPolicy.DATA
    options.deterministic = True
    return ds.with_options(options)


def backup_callback(root: Path, stage: str) -> Any:
    """Keras ``BackupAndRestore`` in ``root/<stage>``: a restarted worker resumes from the last finished epoch;
    the folder is removed when the stage finishes."""
    from codegen.train.tfenv import keras

    folder = root / re.sub(r"[^A-Za-z0-9_.-]+", "_", stage)
    return keras().callbacks.BackupAndRestore(backup_dir=str(folder))


_STRATEGY: list[Any] = []  # the strategy of this process (TensorFlow allows one MultiWorkerMirroredStrategy)
_RUNNING: list[bool] = []  # set while run_on_worker runs the recipe


def current_strategy() -> Any:
    return _STRATEGY[0] if _STRATEGY else None


def running() -> bool:
    """Whether :func:`run_on_worker` is running the recipe in this process."""
    return bool(_RUNNING)


def run_on_worker(cfg: Any, progress: Any, train: Any) -> Any:
    """``train(cfg)`` as one worker of the cluster: the strategy first, then the recipe in its scope; the chief
    writes into ``cfg.out_dir``, the other workers into a temporary folder that is deleted afterwards."""
    import shutil
    import tempfile
    from dataclasses import replace

    from codegen.train.pipeline import check_outputs

    where = cluster()
    if where.is_chief:
        check_outputs(cfg)
    if not _STRATEGY:
        _STRATEGY.append(make_strategy()[0])
    _RUNNING.append(True)
    try:
        if where.is_chief:
            result = train(cfg, progress)
            shutil.rmtree(cfg.out_dir / f".{cfg.prefix}_backup", ignore_errors=True)  # every stage finished
            return result
        scratch = Path(tempfile.mkdtemp(prefix=f"codegen-worker{where.task_index}-"))
        try:
            result = train(replace(cfg, out_dir=scratch, force=True), progress)
            log.info("worker %d: trained in step with the chief; its files are discarded", where.task_index)
            return replace(result, config=cfg, files=())
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    finally:
        _RUNNING.clear()
