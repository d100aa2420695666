"""byzref.runs.open_runs reads a results store, a verify folder and run folders alike."""

import numpy as np
import pytest

from byzref.config import normalize
from byzref.engine import run
from byzref.errors import ConfigError
from byzref.runs import open_runs
from byzref.store import ResultStore


def _cfg(seed):
    return normalize({"seed": seed, "n": 4, "T": 30, "problem": {"name": "quadratic", "d": 3, "sigma2": 0.0},
                      "algorithm": {"name": "byz_ef21", "gamma": 0.5}})


@pytest.fixture(scope="module")
def results():
    return [run(_cfg(s)) for s in (0, 1)]


def test_store_verify_folder_and_run_folder_give_the_same_runs(tmp_path, results):
    store = ResultStore(tmp_path / "v" / "runs")
    folder = tmp_path / "r"
    for r in results:
        store.append(r)
        r.save(folder)
    for path, kind in ((tmp_path / "v" / "runs", "store"), (tmp_path / "v", "store"), (folder, "run folder")):
        src = open_runs(path)
        assert src.kind == kind
        assert sorted(r["run_id"] for r in src.records) == sorted(r.run_id for r in results)
        for rec in src.records:
            want = next(r for r in results if r.run_id == rec["run_id"])
            for k, v in want.curves.items():
                np.testing.assert_array_equal(src.curves(rec)[k], v)
        assert src.lines[0].endswith("2 runs read (2 ok)")


def test_a_damaged_run_in_a_folder_is_skipped_and_counted(tmp_path, results):
    for r in results:
        r.save(tmp_path)
    (tmp_path / f"{results[0].run_id}.npz").write_bytes(b"junk")
    src = open_runs(tmp_path)
    assert [r["run_id"] for r in src.records] == [results[1].run_id]
    assert src.lines[1].startswith("skipped: 1 damaged")


@pytest.mark.parametrize("make", ["missing", "file", "empty"])
def test_a_path_without_runs_is_one_clear_error(tmp_path, make):
    p = tmp_path / "x"
    if make == "file":
        p.write_text("")
    elif make == "empty":
        p.mkdir()
    with pytest.raises(ConfigError, match="expected a results store"):
        open_runs(p)
