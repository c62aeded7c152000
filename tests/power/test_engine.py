"""Replicate engine: same numbers serially, on processes and on Dask; checkpoint/resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from alsstats.errors import AlsStatsError
from alsstats.power.engine import map_replicates
from alsstats.power.scenario import Analysis, Arm, Outcome, TrialScenario
from alsstats.power.simulate import simulate_power

ROOT = Path(__file__).resolve().parents[2]
TRIALS = ROOT / "alsstats" / "power" / "scenarios"


class Draw:
    """A tiny picklable task: two uniforms per replicate."""

    def __call__(self, seeds):
        return np.stack([np.random.default_rng(s).random(2) for s in seeds])


def adascog(method="egls", slowing=0.3, n=208) -> TrialScenario:
    return TrialScenario(visits=(0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5),
                         arms=(Arm("placebo", n), Arm("active", n, slowing)),
                         outcome=Outcome(20.0, 5.0, 55**0.5, 24**0.5, 0.8, 10**0.5),
                         analysis=Analysis(method=method))


def test_replicate_i_gets_child_seed_i_whatever_the_chunking():
    a, _ = map_replicates(Draw(), 23, 5, fingerprint="draw", chunk_size=4)
    b, _ = map_replicates(Draw(), 23, 5, fingerprint="draw", chunk_size=23)
    expected = np.stack([np.random.default_rng(s).random(2)
                         for s in np.random.SeedSequence(5).spawn(23)])
    np.testing.assert_array_equal(a, expected)
    np.testing.assert_array_equal(b, expected)


def test_workers_1_and_2_identical():
    s = adascog()
    one = simulate_power(s, 120, 3, workers=1, chunk_size=20)
    two = simulate_power(s, 120, 3, workers=2, chunk_size=20)
    assert two.run.scheduler == "processes"
    np.testing.assert_array_equal(one.results, two.results)
    assert one.arms == two.arms


def test_dask_scheduler_address_identical():
    import distributed  # a dev dependency (pyproject [dev]): never skipped
    s = adascog()
    serial = simulate_power(s, 60, 4, chunk_size=15)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        on_dask = simulate_power(s, 60, 4, chunk_size=15, scheduler=cluster.scheduler_address)
    assert on_dask.run.scheduler.startswith("dask")
    np.testing.assert_array_equal(serial.results, on_dask.results)


def test_dask_local_cluster_identical():
    # Tiny (60 replicates, 2 workers): the "local" scheduler starts its own cluster.
    s = adascog()
    serial = simulate_power(s, 60, 4, chunk_size=15)
    local = simulate_power(s, 60, 4, chunk_size=15, scheduler="local", workers=2)
    np.testing.assert_array_equal(serial.results, local.results)


def test_checkpoint_of_another_run_is_refused(tmp_path):
    map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5, checkpoint=tmp_path)
    with pytest.raises(AlsStatsError, match="different run"):
        map_replicates(Draw(), 10, 2, fingerprint="draw", chunk_size=5, checkpoint=tmp_path)


def test_complete_checkpoint_is_reused_without_recomputing(tmp_path):
    first, info1 = map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5,
                                  checkpoint=tmp_path)
    again, info2 = map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5,
                                  checkpoint=tmp_path)
    assert info1.chunks_resumed == 0 and info2.chunks_resumed == 2
    np.testing.assert_array_equal(first, again)


KILLED_RUN = textwrap.dedent("""
    import sys
    from alsstats.power.scenario import read_trial_scenario
    from alsstats.power.simulate import simulate_power
    s = read_trial_scenario(sys.argv[1])
    simulate_power(s, int(sys.argv[2]), 11, chunk_size=5, checkpoint=sys.argv[3])
""")


def test_killed_run_resumes_to_the_uninterrupted_result(tmp_path):
    scenario = TRIALS / "trial_adascog.toml"
    replicates, n_chunks = 300, 60
    ckpt = tmp_path / "ckpt"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_RUN, str(scenario), str(replicates),
                             str(ckpt)], cwd=ROOT, start_new_session=True)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            if len(list(ckpt.glob("chunk_*.npy"))) >= 3 or proc.poll() is not None:
                break
            time.sleep(0.01)
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    finished_before = len(list(ckpt.glob("chunk_*.sha256")))  # a chunk counts with its hash
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert 1 <= finished_before < n_chunks

    from alsstats.power.scenario import read_trial_scenario

    s = read_trial_scenario(scenario)
    resumed = simulate_power(s, replicates, 11, chunk_size=5, checkpoint=ckpt)
    assert resumed.run.chunks_resumed == finished_before
    straight = simulate_power(s, replicates, 11, chunk_size=5)
    np.testing.assert_array_equal(resumed.results, straight.results)
    assert resumed.arms == straight.arms
    assert resumed.arms[0].successful_fits + resumed.arms[0].failed_fits == replicates


def test_engine_argument_checks():
    with pytest.raises(AlsStatsError, match="seed"):
        map_replicates(Draw(), 5, None, fingerprint="x")
    with pytest.raises(AlsStatsError, match="replicates"):
        map_replicates(Draw(), 0, 1, fingerprint="x")
    with pytest.raises(AlsStatsError, match="workers"):
        map_replicates(Draw(), 5, 1, fingerprint="x", workers=0)


def test_progress_line_only_when_enabled(capsys):
    map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5, progress=False)
    assert capsys.readouterr().err == ""
    map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5, progress=True)
    err = capsys.readouterr().err
    assert "10/10" in err and err.endswith("\n")


def test_stale_temporary_chunk_is_ignored_and_removed(tmp_path):
    map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5, checkpoint=tmp_path)
    (tmp_path / "chunk_000001.npy").unlink()
    stale = tmp_path / ".chunk_000001.npy.abc.tmp"
    stale.write_bytes(b"half-written")
    res, info = map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5,
                               checkpoint=tmp_path)
    assert info.chunks_resumed == 1 and not stale.exists()
    expected, _ = map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5)
    np.testing.assert_array_equal(res, expected)


@pytest.mark.parametrize("damage", ["zeroed", "truncated", "pickled"])
def test_damaged_checkpoint_chunk_is_refused_in_one_line(tmp_path, damage):
    """A chunk whose bytes no longer match its SHA-256 is refused, never used."""
    map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5, checkpoint=tmp_path)
    chunk = tmp_path / "chunk_000001.npy"
    if damage == "zeroed":  # same shape, same size, different numbers
        arr = np.load(chunk)
        with open(chunk, "wb") as fh:
            np.save(fh, np.zeros_like(arr))
    elif damage == "truncated":
        chunk.write_bytes(chunk.read_bytes()[:40])
    else:
        with open(chunk, "wb") as fh:
            np.save(fh, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(AlsStatsError, match="does not match its SHA-256") as info:
        map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5, checkpoint=tmp_path)
    assert "\n" not in str(info.value)


def test_chunk_without_its_hash_is_recomputed(tmp_path):
    expected, _ = map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5,
                                 checkpoint=tmp_path)
    (tmp_path / "chunk_000000.sha256").unlink()  # killed between the chunk and its hash
    res, info = map_replicates(Draw(), 10, 1, fingerprint="draw", chunk_size=5,
                               checkpoint=tmp_path)
    assert info.chunks_resumed == 1
    np.testing.assert_array_equal(res, expected)


PARENT_OF_WORKERS = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from alsstats.power.engine import map_replicates

    class Slow:
        def __call__(self, seeds):
            open(os.path.join(sys.argv[1], str(os.getpid())), "w").close()
            time.sleep(60)
            return np.zeros((len(seeds), 1))

    map_replicates(Slow(), 4, 1, fingerprint="slow", workers=2, chunk_size=1)
""")


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


@pytest.mark.skipif(not sys.platform.startswith("linux"),
                    reason="reads /proc/<pid>/status, which exists on Linux only")
def test_workers_die_with_their_parent(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", PARENT_OF_WORKERS, str(tmp_path)], cwd=ROOT)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = [int(p.name) for p in tmp_path.iterdir()]
    assert len(workers) == 2
    proc.kill()  # kill -9 of the parent only, not its process group
    proc.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(w) for w in workers)
