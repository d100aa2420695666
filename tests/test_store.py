"""The results store: append-only JSONL + npz, duplicate-free, tolerant of a truncated last line."""

import json
import multiprocessing as mp

import numpy as np

from byzref.engine import run
from byzref.store import ResultStore


def _cfg(seed, T=30):
    return {"seed": seed, "n": 4, "T": T, "record": {"every": 5},
            "problem": {"name": "quadratic", "d": 5, "sigma2": 0.1},
            "algorithm": {"name": "byz_ef21_sgd", "gamma": 0.3}}


def test_append_load_and_no_duplicates(tmp_path):
    store = ResultStore(tmp_path / "s")
    a, b = run(_cfg(0)), run(_cfg(1))
    assert store.append(a) and store.append(b)
    assert not store.append(run(_cfg(0)))  # same config ⇒ same id ⇒ refused
    assert [r["run_id"] for r in store.records()] == [a.run_id, b.run_id]
    back = store.load(a.run_id)
    for k in a.curves:
        np.testing.assert_array_equal(back.curves[k], a.curves[k])
    assert back.summary == json.loads(json.dumps(a.record()))["summary"]
    assert store.finished_ids() == {a.run_id, b.run_id}


def test_truncated_last_line_is_skipped_and_the_next_append_starts_fresh(tmp_path):
    store = ResultStore(tmp_path)
    a = run(_cfg(0))
    store.append(a)
    with open(store.index, "ab") as fh:  # a writer killed mid-record
        fh.write(b'{"run_id": "deadbeef", "config": {"se')
    assert [r["run_id"] for r in store.records()] == [a.run_id] and store.skipped == 1
    b = run(_cfg(1))
    assert store.append(b)
    assert [r["run_id"] for r in store.records()] == [a.run_id, b.run_id]
    assert store.load(b.run_id).status == "ok"


def _writer(path, seeds):
    store = ResultStore(path)
    for s in seeds:
        store.append(run(_cfg(s, T=10)))


def test_concurrent_writers_lose_nothing_and_duplicate_nothing(tmp_path):
    ctx = mp.get_context("spawn")
    seeds = ([0, 1, 2, 3], [2, 3, 4, 5])
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), s)) for s in seeds]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    ids = [r["run_id"] for r in ResultStore(tmp_path).records()]
    assert len(ids) == len(set(ids)) == 6
    for rid in ids:
        assert ResultStore(tmp_path).load(rid).curves["grad_sq"].size > 0
