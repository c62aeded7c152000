"""Run Monte Carlo replicates serially, on local processes or on Dask — same answer every way.

A *task* is a picklable callable ``task(seeds) -> ndarray`` that turns a list of
:class:`numpy.random.SeedSequence` (one per replicate) into one result row per
replicate.  :func:`map_replicates` gives replicate ``i`` the child seed ``i`` of
``SeedSequence(seed)`` (``SeedSequence(seed).spawn(n)[i]``), cuts the replicates into
fixed chunks ``[c·size, (c+1)·size)`` and runs the chunks

* serially (``workers=1``, no scheduler),
* on ``workers`` local processes (:class:`concurrent.futures.ProcessPoolExecutor`),
* on Dask: ``scheduler="local"`` starts a :class:`distributed.LocalCluster` with
  ``workers`` single-threaded processes, any other string is a scheduler address.

Because seeds and chunks depend only on ``seed``, ``n_replicates`` and
``chunk_size``, the concatenated result is identical whatever runs it.  With a
``checkpoint`` folder every finished chunk is written atomically
(``chunk_000012.npy``) next to a manifest naming the run (task fingerprint, seed,
replicates, chunk size); a rerun with the same arguments loads the finished chunks
and runs only the missing ones, so an interrupted run resumes without redoing or
double-counting work.  A manifest of a different run is an error, not overwritten.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from alsstats._files import atomic_path, write_json
from alsstats._progress import Progress
from alsstats.errors import AlsStatsError
from alsstats.inference.threads import single_threaded_blas

__all__ = ["Progress", "RunInfo", "map_replicates"]

Task = Callable[[Sequence[np.random.SeedSequence]], np.ndarray]


@dataclass(frozen=True)
class RunInfo:
    """How a run was executed (for provenance; the results never depend on it)."""

    n_replicates: int
    chunk_size: int
    n_chunks: int
    chunks_resumed: int
    workers: int
    scheduler: str
    elapsed_seconds: float


def _run_serial_chunk(task: Task, seeds: Sequence[np.random.SeedSequence]) -> np.ndarray:
    with single_threaded_blas():
        return np.asarray(task(seeds))


def _manifest(fingerprint: str, seed: int, n_replicates: int, chunk_size: int) -> dict:
    return {"fingerprint": fingerprint, "seed": int(seed), "n_replicates": int(n_replicates),
            "chunk_size": int(chunk_size), "format": "alsstats-power-checkpoint-1"}


def _open_checkpoint(folder: Path, manifest: dict, n_chunks: int) -> dict[int, np.ndarray]:
    """Create or check the checkpoint folder; return the chunks already finished."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.json"
    if path.exists():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise AlsStatsError(f"checkpoint manifest {path} is unreadable: {exc}") from None
        if found != manifest:
            diff = sorted(k for k in manifest if found.get(k) != manifest[k])
            raise AlsStatsError(
                f"checkpoint folder {folder} belongs to a different run (differs in "
                f"{', '.join(diff)}); use a new folder or delete it")
    else:
        write_json(path, manifest)
    # A killed run can leave the temporary file of a chunk it was writing; it never
    # counts (only complete, renamed chunk files do) and is removed here.  One run per
    # checkpoint folder at a time.
    for stale in folder.glob(".chunk_*.tmp"):
        stale.unlink(missing_ok=True)
    done: dict[int, np.ndarray] = {}
    for c in range(n_chunks):
        file = folder / f"chunk_{c:06d}.npy"
        if file.exists():
            done[c] = np.load(file, allow_pickle=False)
    return done


def _save_chunk(folder: Path, c: int, result: np.ndarray) -> None:
    with atomic_path(folder / f"chunk_{c:06d}.npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, result, allow_pickle=False)


def _blas_one_thread() -> None:
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


def map_replicates(task: Task, n_replicates: int, seed: int, *, fingerprint: str,
                   workers: int = 1, scheduler: str | None = None, chunk_size: int = 50,
                   checkpoint: str | os.PathLike | None = None,
                   progress: bool = False) -> tuple[np.ndarray, RunInfo]:
    """Run ``task`` over ``n_replicates`` seeded replicates; rows come back in replicate order.

    Parameters
    ----------
    task : picklable ``task(seeds) -> array`` (one leading row per seed).
    n_replicates : number of replicates.
    seed : integer root seed (required so that a run can be reproduced and resumed).
    fingerprint : text identifying the task and its settings; stored in the checkpoint
        manifest so a checkpoint is never mixed with another run's.
    workers : processes (or Dask workers with ``scheduler="local"``).
    scheduler : ``None`` (serial / local processes), ``"local"`` (local Dask cluster)
        or a Dask scheduler address such as ``"tcp://10.0.0.5:8786"``.
    chunk_size : replicates per chunk (the unit of scheduling and checkpointing).
    checkpoint : folder for finished chunks; resumed when it already holds this run.
    progress : show a progress line on stderr.
    """
    n_replicates = int(n_replicates)
    if n_replicates < 1:
        raise AlsStatsError(f"replicates must be >= 1, got {n_replicates}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise AlsStatsError(f"seed must be a non-negative integer, got {seed!r}")
    workers = int(workers)
    if workers < 1:
        raise AlsStatsError(f"workers must be >= 1, got {workers}")
    chunk_size = int(chunk_size)
    if chunk_size < 1:
        raise AlsStatsError(f"chunk_size must be >= 1, got {chunk_size}")
    seeds = np.random.SeedSequence(int(seed)).spawn(n_replicates)
    bounds = [(s, min(s + chunk_size, n_replicates)) for s in range(0, n_replicates, chunk_size)]
    folder = None if checkpoint is None else Path(checkpoint)
    done: dict[int, np.ndarray] = {}
    if folder is not None:
        done = _open_checkpoint(folder, _manifest(fingerprint, seed, n_replicates, chunk_size),
                                len(bounds))
    todo = [c for c in range(len(bounds)) if c not in done]
    bar = Progress(n_replicates, enabled=progress)
    bar.update(sum(len(done[c]) for c in done))
    start = time.perf_counter()

    def finish(c: int, result: np.ndarray) -> None:
        lo, hi = bounds[c]
        if result.shape[0] != hi - lo:
            raise AlsStatsError(f"task returned {result.shape[0]} rows for {hi - lo} replicates")
        if folder is not None:
            _save_chunk(folder, c, result)
        done[c] = result
        bar.update(hi - lo)

    if scheduler is not None:
        used = _run_dask(task, seeds, bounds, todo, finish, workers, scheduler)
    elif workers > 1 and len(todo) > 1:
        used = "processes"
        with ProcessPoolExecutor(max_workers=workers, initializer=_blas_one_thread) as pool:
            pending = {pool.submit(_run_serial_chunk, task, seeds[bounds[c][0]:bounds[c][1]]): c
                       for c in todo}
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        finish(pending.pop(fut), np.asarray(fut.result()))
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
    else:
        used = "serial"
        for c in todo:
            lo, hi = bounds[c]
            finish(c, _run_serial_chunk(task, seeds[lo:hi]))
    results = np.concatenate([done[c] for c in range(len(bounds))], axis=0)
    info = RunInfo(n_replicates=n_replicates, chunk_size=chunk_size, n_chunks=len(bounds),
                   chunks_resumed=len(bounds) - len(todo), workers=workers, scheduler=used,
                   elapsed_seconds=time.perf_counter() - start)
    return results, info


def _run_dask(task, seeds, bounds, todo, finish, workers: int, scheduler: str) -> str:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - dask is an optional extra
        raise AlsStatsError("scheduler needs dask.distributed: pip install 'alsstats[dask]'") \
            from None
    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
        used = f"dask-local ({workers} workers)"
    else:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise AlsStatsError(f"cannot connect to Dask scheduler {scheduler!r}: {exc}") from None
        used = f"dask {scheduler}"
    try:
        client.run(_blas_one_thread)
        futures = {}
        for c in todo:
            lo, hi = bounds[c]
            fut = client.submit(_run_serial_chunk, task, seeds[lo:hi], pure=False)
            futures[fut] = c
        try:
            for fut in as_completed(list(futures)):
                finish(futures[fut], np.asarray(fut.result()))
        except BaseException:
            client.cancel(list(futures))
            raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return used
