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
(``chunk_000012.npy``) with its SHA-256 (``chunk_000012.sha256``, written after the
chunk) next to a manifest naming the run (task fingerprint, seed, replicates, chunk
size); a rerun with the same arguments verifies and loads the finished chunks and runs
only the missing ones, so an interrupted run resumes without redoing or
double-counting work.  A manifest of a different run is an error, not overwritten; a
chunk whose bytes do not match its hash (damaged, zeroed, replaced by a pickle) is
refused in one line; a chunk without its hash (killed between the two writes) is
recomputed.

Memory.  Seeds are made per chunk (child ``i`` is ``SeedSequence(seed, spawn_key=(i,))``,
identical to ``SeedSequence(seed).spawn(n)[i]``), so no per-replicate object is held for
the whole run.  At most ``workers`` chunks are in flight (each ``chunk_size``
replicates); the only state that grows with ``n_replicates`` is the result rows
(``n_replicates × k`` numbers, 8 bytes each: 80 MB for 10⁶ replicates of 10 values).

Workers.  Local worker processes ask the kernel to kill them when the parent dies
(Linux ``PR_SET_PDEATHSIG``) and otherwise poll the parent every second, so a
``kill -9`` of the parent never leaves workers running.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import threading
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


def _chunk_files(folder: Path, c: int) -> tuple[Path, Path]:
    return folder / f"chunk_{c:06d}.npy", folder / f"chunk_{c:06d}.sha256"


def _open_checkpoint(folder: Path, manifest: dict, n_chunks: int) -> dict[int, np.ndarray]:
    """Create or check the checkpoint folder; return the chunks already finished (verified)."""
    if folder.exists() and not folder.is_dir():
        raise AlsStatsError(f"checkpoint {folder}: exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AlsStatsError(f"checkpoint {folder}: cannot create the folder: "
                            f"{exc.strerror}") from None
    path = folder / "manifest.json"
    if path.exists():
        try:
            found = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise AlsStatsError(f"checkpoint manifest {path} is unreadable (not the JSON "
                                "alsstats writes); use a new folder") from None
        if found != manifest:
            diff = sorted(k for k in manifest
                          if not isinstance(found, dict) or found.get(k) != manifest[k])
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
        data_file, hash_file = _chunk_files(folder, c)
        if data_file.exists() and hash_file.exists():
            done[c] = _load_chunk(data_file, hash_file)
    return done


def _load_chunk(data_file: Path, hash_file: Path) -> np.ndarray:
    """A finished chunk whose bytes match its SHA-256; anything else is refused."""
    data = data_file.read_bytes()
    expected = hash_file.read_text(encoding="ascii", errors="replace").strip()
    if hashlib.sha256(data).hexdigest() != expected:
        raise AlsStatsError(f"checkpoint chunk {data_file} does not match its SHA-256 "
                            f"({hash_file.name}): damaged or replaced; delete the checkpoint "
                            "folder and rerun")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError):
        raise AlsStatsError(f"checkpoint chunk {data_file} is not a plain NumPy array "
                            "(pickled or damaged); delete the checkpoint folder and rerun") \
            from None


def _save_chunk(folder: Path, c: int, result: np.ndarray) -> None:
    data_file, hash_file = _chunk_files(folder, c)
    with atomic_path(data_file) as tmp, open(tmp, "wb") as fh:
        np.save(fh, result, allow_pickle=False)
    digest = hashlib.sha256(data_file.read_bytes()).hexdigest()
    with atomic_path(hash_file) as tmp:
        tmp.write_text(digest + "\n", encoding="ascii")


def _chunk_seeds(seed: int, lo: int, hi: int) -> list[np.random.SeedSequence]:
    """Child seeds ``lo..hi-1`` of ``SeedSequence(seed)`` (same as ``spawn(n)[lo:hi]``)."""
    return [np.random.SeedSequence(int(seed), spawn_key=(i,)) for i in range(lo, hi)]


def _die_with_parent() -> None:
    """In a worker process: exit when the parent process dies (no orphaned workers)."""
    parent = os.getppid()
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: poll below
        pass

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker_init() -> None:
    _die_with_parent()
    _blas_one_thread()


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
        used = _run_dask(task, int(seed), bounds, todo, finish, workers, scheduler)
    elif workers > 1 and len(todo) > 1:
        used = "processes"
        with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
            queue = iter(todo)
            pending: dict = {}
            try:
                while True:
                    while len(pending) < workers and (c := next(queue, None)) is not None:
                        pending[pool.submit(_run_serial_chunk, task,
                                            _chunk_seeds(seed, *bounds[c]))] = c
                    if not pending:
                        break
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
            finish(c, _run_serial_chunk(task, _chunk_seeds(seed, *bounds[c])))
    results = np.concatenate([done[c] for c in range(len(bounds))], axis=0)
    info = RunInfo(n_replicates=n_replicates, chunk_size=chunk_size, n_chunks=len(bounds),
                   chunks_resumed=len(bounds) - len(todo), workers=workers, scheduler=used,
                   elapsed_seconds=time.perf_counter() - start)
    return results, info


def _run_dask(task, seed: int, bounds, todo, finish, workers: int, scheduler: str) -> str:
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
            fut = client.submit(_run_serial_chunk, task, _chunk_seeds(seed, *bounds[c]),
                                pure=False)
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
