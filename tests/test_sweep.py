"""Sweeps: grid expansion, resume, failures, serial == process pool bit for bit, progress output."""

import io
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from byzref.config import normalize, run_id
from byzref.errors import ConfigError
from byzref.progress import Progress, fmt_seconds
from byzref.store import ResultStore
from byzref.sweep import SerialExecutor, expand, load_sweep, process_pool, run_sweep


def _base(**kw):
    cfg = {"n": 6, "T": 60, "record": {"every": 10},
           "problem": {"name": "quadratic", "d": 8, "sigma2": 0.1},
           "algorithm": {"name": "byz_ef21", "gamma": 0.1}}
    cfg.update(kw)
    return cfg


# --- expansion -------------------------------------------------------------------------------------
def test_grid_order_is_cases_then_axes_in_file_order_last_fastest():
    sweep = {"seed": [0, 1], "n": 6, "T": 60, "problem": {"name": "quadratic", "d": 8},
             "algorithm": {"gamma": [0.5, 0.05]},
             "case": [{"algorithm": {"name": "byz_ef21"}},
                      {"algorithm": {"name": "byz_vr_marina", "p": 0.5},
                       "compressor": {"name": "rand_k", "k": 2}}]}
    got = [(c["algorithm"]["name"], c["seed"], c["algorithm"]["gamma"], c["compressor"]["name"])
           for c in expand(sweep)]
    want = [("byz_ef21", 0, 0.5, "identity"), ("byz_ef21", 0, 0.05, "identity"),
            ("byz_ef21", 1, 0.5, "identity"), ("byz_ef21", 1, 0.05, "identity"),
            ("byz_vr_marina", 0, 0.5, "rand_k"), ("byz_vr_marina", 0, 0.05, "rand_k"),
            ("byz_vr_marina", 1, 0.5, "rand_k"), ("byz_vr_marina", 1, 0.05, "rand_k")]
    assert got == want


def test_count_is_product_of_axes_and_ids_are_unique_and_normalized():
    sweep = _base(seed=[0, 1, 2], f=[0, 1], aggregator=["nnm+cwtm", "cwmed"],
                  algorithm={"name": "byz_ef21", "gamma": [0.1, 0.2]})
    cfgs = expand(sweep)
    assert len(cfgs) == 3 * 2 * 2 * 2
    assert len({run_id(c) for c in cfgs}) == 24
    for c in cfgs:
        assert normalize(c) == c  # normalized, and normalize is idempotent (so resume matches ids)
        assert run_id(normalize(c)) == run_id(c)


def test_case_merges_into_base_tables_key_by_key_and_a_string_replaces_a_table():
    sweep = _base(compressor={"name": "top_k", "k": 3}, aggregator={"name": "cwtm"},
                  f=1, case=[{"compressor": {"name": "rand_k_biased"}}, {"aggregator": "cwmed"}])
    a, b = expand(sweep)
    bits = {"float_bits": 32}  # normalize writes the default out
    assert a["compressor"] == {"name": "rand_k_biased", "k": 3, **bits}
    assert a["aggregator"] == {"name": "cwtm"}
    assert b["compressor"] == {"name": "top_k", "k": 3, **bits} and b["aggregator"] == {"name": "cwmed"}


def test_axis_values_may_be_tables_and_may_hold_axes():
    sweep = _base(compressor=[{"name": "identity"}, {"name": "top_k", "k": [1, 2]}])
    assert [c["compressor"] for c in expand(sweep)] == [
        {"name": "identity", "float_bits": 32}, {"name": "top_k", "k": 1, "float_bits": 32},
        {"name": "top_k", "k": 2, "float_bits": 32}]


def test_duplicates_collapse_and_name_notes_stay_out_of_the_id():
    sweep = _base(name="demo", notes="a note", seed=[0, 1, 0],
                  case=[{}, {"algorithm": {"gamma": 0.1}}])  # the second case equals the first
    cfgs = expand(sweep)
    assert [c["seed"] for c in cfgs] == [0, 1]
    plain = expand(_base(seed=[0, 1]))
    assert [run_id(c) for c in cfgs] == [run_id(c) for c in plain]
    assert cfgs[0]["name"] == "demo"


@settings(max_examples=30)
@given(seeds=st.lists(st.integers(0, 50), min_size=1, max_size=4),
       fs=st.lists(st.integers(0, 2), min_size=1, max_size=3),
       gammas=st.lists(st.sampled_from([0.5, 0.1, 0.05, 0.01]), min_size=1, max_size=3),
       n_cases=st.integers(0, 3))
def test_grid_is_cases_times_itertools_product_with_duplicates_dropped(seeds, fs, gammas, n_cases):
    cases = [{"algorithm": {"name": "byz_ef21"}, "T": 10 + i} for i in range(n_cases)]
    sweep = {"seed": seeds, "f": fs, "n": 6, "problem": {"name": "quadratic"},
             "algorithm": {"name": "byz_ef21", "gamma": gammas}, "T": 10}
    if cases:
        sweep["case"] = cases
    want = []
    for T in [c["T"] for c in cases] or [10]:
        for p in itertools.product(seeds, fs, gammas):
            if (T, *p) not in want:
                want.append((T, *p))
    got = [(c["T"], c["seed"], c["f"], c["algorithm"]["gamma"]) for c in expand(sweep, validate=False)]
    assert got == want


@pytest.mark.parametrize(("sweep", "needle"), [
    (_base(seed=[]), "sweep axis 'seed' = [] is empty"),
    (_base(algorithm={"name": "byz_ef21", "gamma": []}), "sweep axis 'algorithm.gamma' = [] is empty"),
    (_base(case=[]), "case = [] is empty"),
    (_base(case=[1, 2]), "array of tables"),
    (_base(sed=[0, 1]), "unknown top-level key(s) sed"),
    (_base(algorithm={"name": "byz_ef21", "gamma": [0.1, -1.0]}), "algorithm.gamma=-1.0"),
    (_base(compressor={"name": "top_k", "k": [2, 50]}), "compressor.k=50"),
    (_base(algorithm={"name": ["byz_ef21", "byz_ef2l"], "gamma": 0.1}), "byz_ef2l"),
])
def test_bad_sweeps_fail_up_front_naming_the_point_and_field(sweep, needle):
    with pytest.raises(ConfigError) as info:
        expand(sweep)
    assert needle in str(info.value)


def test_load_sweep_reads_toml_with_cases_and_overrides(tmp_path):
    p = tmp_path / "s.toml"
    p.write_text('seed = [0, 1]\nn = 6\nT = 20\n[problem]\nname = "quadratic"\nd = 8\n'
                 '[algorithm]\nname = "byz_ef21"\ngamma = [0.1, 0.2]\n'
                 '[[case]]\ncompressor = {name = "top_k", k = 2}\n[[case]]\ncompressor.name = "identity"\n')
    sweep = load_sweep(p, ["seed=[5]"])
    assert sweep["seed"] == [5] and len(sweep["case"]) == 2
    cfgs = expand(sweep)
    assert [(c["seed"], c["compressor"]["name"], c["algorithm"]["gamma"]) for c in cfgs] == [
        (5, "top_k", 0.1), (5, "top_k", 0.2), (5, "identity", 0.1), (5, "identity", 0.2)]


# --- running ---------------------------------------------------------------------------------------
def _mixed():
    return expand(_base(seed=[0, 1], f=1, attack=["sign_flip", "alie"], aggregator="nnm+cwtm",
                        case=[{"algorithm": {"name": "byz_dm21", "gamma": 0.05, "eta": 0.2},
                               "compressor": {"name": "top_k", "k": 2}},
                              {"algorithm": {"name": "byz_vr_marina", "gamma": 0.05, "p": 0.3},
                               "compressor": {"name": "rand_k", "k": 2}}]))


def _by_id(store_dir):
    store = ResultStore(store_dir)
    recs = store.records()
    return {r["run_id"]: (r, store.load(r)) for r in recs}, [r["run_id"] for r in recs]


def _assert_same_results(dir_a, dir_b):
    a, ids_a = _by_id(dir_a)
    b, ids_b = _by_id(dir_b)
    assert len(ids_a) == len(set(ids_a)) and sorted(ids_a) == sorted(ids_b)
    for rid, (rec, res) in a.items():
        rec_b, res_b = b[rid]
        assert json.dumps(rec["summary"], sort_keys=True) == json.dumps(rec_b["summary"], sort_keys=True)
        assert (rec["status"], rec["config"]) == (rec_b["status"], rec_b["config"])
        assert sorted(res.curves) == sorted(res_b.curves)
        for k, v in res.curves.items():  # bit for bit
            assert v.dtype == res_b.curves[k].dtype and v.tobytes() == res_b.curves[k].tobytes(), (rid, k)


def test_serial_equals_process_pool_bit_for_bit(tmp_path):
    cfgs = _mixed()
    s1 = run_sweep(cfgs, tmp_path / "serial", executor=SerialExecutor())
    s2 = run_sweep(cfgs, tmp_path / "pool", workers=2)
    assert s1["ok"] + s1["diverged"] == s2["ok"] + s2["diverged"] == len(cfgs) == 8
    assert s1["failed"] == s2["failed"] == 0
    _assert_same_results(tmp_path / "serial", tmp_path / "pool")


def test_resume_skips_finished_ids(tmp_path, monkeypatch):
    import byzref._sweep_exec as ex

    cfgs = _mixed()
    first = run_sweep(cfgs[:3], tmp_path, executor=SerialExecutor())
    assert (first["ran"], first["skipped"]) == (3, 0)
    seen = []
    real = ex._run_one
    monkeypatch.setattr(ex, "_run_one", lambda c, *a: seen.append(run_id(c)) or real(c, *a))
    second = run_sweep(cfgs, tmp_path, executor=SerialExecutor())
    assert (second["total"], second["skipped"], second["ran"]) == (8, 3, 5)
    assert set(seen) == {run_id(c) for c in cfgs[3:]} and len(seen) == 5
    ids = [r["run_id"] for r in ResultStore(tmp_path).records()]
    assert sorted(ids) == sorted(run_id(c) for c in cfgs)
    third = run_sweep(cfgs, tmp_path, workers=2)  # nothing left: no pool is even started
    assert (third["skipped"], third["ran"]) == (8, 0)


def test_a_run_that_raises_is_logged_not_stored_and_the_sweep_goes_on(tmp_path):
    good = _mixed()[:2]
    bad = {**good[0], "problem": {**good[0]["problem"], "sigma2": -1.0}}  # fails inside the worker
    s = run_sweep([good[0], bad, good[1]], tmp_path, workers=2)
    assert (s["ok"] + s["diverged"], s["failed"], s["ran"]) == (2, 1, 3)
    assert ResultStore(tmp_path).finished_ids() == {run_id(good[0]), run_id(good[1])}
    fails = [json.loads(line) for line in (tmp_path / "failures.jsonl").read_text().splitlines()]
    assert [f["run_id"] for f in fails] == [run_id(normalize(bad))]
    assert "sigma2" in fails[0]["error"] and "Traceback" in fails[0]["traceback"]
    again = run_sweep([good[0], bad, good[1]], tmp_path, executor=SerialExecutor())  # retried, not skipped
    assert (again["skipped"], again["ran"], again["failed"]) == (2, 1, 1)


def test_process_pool_is_an_executor_with_single_threaded_workers():
    import os

    with process_pool(1) as pool:
        env = pool.submit(os.getenv, "NUMBA_NUM_THREADS").result()
    assert env == "1"


# --- progress --------------------------------------------------------------------------------------
class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_log_lines_every_tenth_and_at_the_end_with_eta():
    clock, out = _Clock(), io.StringIO()
    p = Progress("runs", stream=out, tty=False, clock=clock)
    for done in range(21):
        clock.t = float(done)  # one second per run
        p(done, 20, failed=done // 10)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11  # 0%, 10%, ..., 100%
    assert lines[5] == "runs 10/20 (50%)  failed 1  elapsed 0:00:10  ETA 0:00:10"
    assert lines[-1] == "runs 20/20 (100%)  failed 2  elapsed 0:00:20  ETA 0:00:00"


def test_tty_bar_is_redrawn_in_place_and_throttled():
    clock, out = _Clock(), io.StringIO()
    p = Progress("runs", stream=out, tty=True, width=10, clock=clock, min_interval=0.5)
    p(0, 4)
    clock.t = 0.1
    p(1, 4)  # within min_interval: not drawn
    clock.t = 1.0
    p(2, 4, 1)
    clock.t = 2.0
    p(4, 4, 1)
    text = out.getvalue()
    assert "\n" not in text[:-1] and text.endswith("\n") and text.count("\r") == 3
    frames = [f.replace("\x1b[K", "").strip() for f in text.split("\r") if f]
    assert frames[1] == "runs [#####.....] 2/4  failed 1  elapsed 0:00:01  ETA 0:00:01"
    assert frames[2].startswith("runs [##########] 4/4  failed 1")


def test_fmt_seconds():
    assert (fmt_seconds(0), fmt_seconds(61.4), fmt_seconds(3723), fmt_seconds(float("nan"))) == (
        "0:00:00", "0:01:01", "1:02:03", "?")


def test_run_ids_change_with_the_numerics_version(monkeypatch):
    # a results store written before a change of the numbers must not be resumed into as if its
    # runs were current: the numerics version is part of every id
    import byzref.config as config_module
    from byzref.results import versions

    cfg = expand(_base())[0]
    before = run_id(cfg)
    monkeypatch.setattr(config_module, "NUMERICS", config_module.NUMERICS + 1)
    assert run_id(cfg) != before
    assert versions()["numerics"] == str(config_module.NUMERICS)


# --- compile_all -------------------------------------------------------------------------------------
def test_compile_all_asks_every_run_to_compile_and_the_default_weighs_the_sweep(tmp_path, monkeypatch):
    import math

    import byzref._sweep_exec as ex
    from byzref.engine import run

    seen = []

    def recorder(cfg, workload=None):
        seen.append(workload)
        return run(cfg, fast=False)

    monkeypatch.setattr(ex, "_run_one", recorder)
    cfgs = [_base(seed=s) for s in range(3)]
    run_sweep(cfgs, tmp_path / "all", workers=1, compile_all=True)
    assert seen == [math.inf] * 3
    seen.clear()
    run_sweep(cfgs, tmp_path / "auto", workers=1)
    assert len(seen) == 3 and all(0 < w < 1 for w in seen)  # 3 runs of 60 iterations: well under a second


@pytest.mark.parametrize("scale,wanted", [("quick", False), ("default", True), ("full", True)])
def test_verify_compiles_every_combination_except_at_the_quick_scale(scale, wanted, monkeypatch):
    import importlib

    tv = importlib.import_module("theory.verify")  # the module (theory.verify is also the function's name)
    got = {}

    def fake_run_all(cfgs, **kw):
        got.update(kw)
        return {}

    monkeypatch.setattr(tv, "run_all", fake_run_all)
    tv.verify(claims=[], scale=scale)
    assert got["compile_all"] is wanted
