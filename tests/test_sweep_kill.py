"""A sweep killed with SIGKILL partway resumes: every run of the grid exists exactly once, all load."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from byzref.config import run_id
from byzref.sweep import expand, load_sweep

ROOT = Path(__file__).resolve().parents[1]

SWEEP = """
name = "kill-test"
seed = [0, 1, 2, 3, 4, 5]
n = 8
f = 2
T = 3000
aggregator = "nnm+cwmed"
attack = ["alie", "sign_flip"]
record = {every = 100}
[problem]
name = "quadratic"
d = 50
sigma2 = 0.1
[[case]]
algorithm = {name = "byz_dm21", gamma = 0.05, eta = 0.1}
compressor = {name = "top_k", k = 5}
[[case]]
algorithm = {name = "byz_vr_marina", gamma = 0.05, p = 0.2}
compressor = {name = "rand_k", k = 5}
"""


def _complete_lines(path: Path) -> list[dict]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # empty, or the truncated last line of a killed writer
    return out


def test_sigkill_partway_then_restart_completes_with_each_run_once(tmp_path):
    sweep_file = tmp_path / "sweep.toml"
    sweep_file.write_text(SWEEP)
    out = tmp_path / "store"
    want = {run_id(c) for c in expand(load_sweep(sweep_file))}
    assert len(want) == 24
    env = {**os.environ, "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", str(ROOT / ".numba_cache"))}
    cmd = [sys.executable, "-m", "byzref", "sweep", str(sweep_file), "--out", str(out), "--workers", "2"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while len(_complete_lines(out / "runs.jsonl")) < 3:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no runs finished within 120 s"
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGKILL)  # the parent and its worker processes
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    partial = {r["run_id"] for r in _complete_lines(out / "runs.jsonl")}
    assert 3 <= len(partial) < len(want), "the kill did not land partway"

    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert f"{len(partial)} already in" in done.stdout

    recs = _complete_lines(out / "runs.jsonl")
    ids = [r["run_id"] for r in recs]
    assert sorted(ids) == sorted(want)  # every run of the grid, each exactly once
    for rec in recs:
        assert rec["status"] == "ok"
        with np.load(out / rec["curves"], allow_pickle=False) as z:
            assert z["grad_sq"].shape == z["iteration"].shape == (31,)
            assert np.all(np.isfinite(z["grad_sq"]))
