"""User components named in configs: import paths ``"package.module:Class"`` and ``byzref.components``
entry points, through ``byzref run``, ``byzref sweep --workers 2`` and ``theory.verify``.

The components live in ``tests/userpkg`` (a package written as a user would: subclasses of the base
classes, registered nowhere). ``tests/`` goes on ``sys.path`` (and on PYTHONPATH for child processes);
entry points come either from a ``*.dist-info`` folder written to ``tmp_path`` (seen by every process
with that folder on its path) or from a monkeypatched ``importlib.metadata.entry_points`` (this process
only: that is how the sweep test shows that worker processes get import paths, not entry names).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from byzref.cli import main
from byzref.config import normalize, run_id
from byzref.errors import ConfigError
from byzref.registry import ENTRY_POINT_GROUP, clear_resolved
from byzref.testing import vectors

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
TOP = "userpkg:TopFraction"
AGG = "userpkg:NormTrim"
ATT = "userpkg:MeanShift"

BASE = {
    "seed": 0, "n": 6, "f": 1, "T": 40,
    "problem": {"name": "quadratic", "d": 8, "sigma2": 0.1},
    "algorithm": {"name": "byz_dm21", "gamma": 0.2, "eta": 0.5},
    "compressor": {"name": TOP, "q": 0.5},
    "aggregator": f"nnm+{AGG}(extra=1)",
    "attack": {"name": ATT, "z": 1.5},
    "record": {"log": 10},
}
TOML = f"""seed = 0
n = 6
f = 1
T = 40
aggregator = "nnm+{AGG}(extra=1)"
[problem]
name = "quadratic"
d = 8
sigma2 = 0.1
[algorithm]
name = "byz_dm21"
gamma = 0.2
eta = 0.5
[compressor]
name = "{TOP}"
q = 0.5
[attack]
name = "{ATT}"
z = 1.5
[record]
log = 10
"""
ENTRY_POINTS = {"top_fraction": TOP, "norm_trim": AGG, "mean_shift": ATT,
                "top_k": TOP,  # shadowed: built-in names win
                "broken": "userpkg_not_installed_xyz:Thing", "wrong_family": AGG}


@pytest.fixture(autouse=True)
def _userpkg(monkeypatch):
    """``tests/`` on sys.path; resolved user components forgotten before and after each test."""
    monkeypatch.syspath_prepend(str(TESTS))
    clear_resolved()
    yield
    clear_resolved()


@pytest.fixture
def dist_info(tmp_path, monkeypatch):
    """A folder holding ``userpkg_plugins-1.0.dist-info`` with the entry points of ENTRY_POINTS, on
    sys.path (returned, for a child's PYTHONPATH)."""
    site = tmp_path / "site"
    info = site / "userpkg_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: userpkg-plugins\nVersion: 1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in ENTRY_POINTS.items())
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{lines}")
    monkeypatch.syspath_prepend(str(site))
    return site


def _fake_entry_points(monkeypatch, entries: dict[str, str]) -> None:
    """Make ``importlib.metadata.entry_points(group=...)`` return ``entries`` (this process only)."""
    eps = [importlib.metadata.EntryPoint(k, v, ENTRY_POINT_GROUP) for k, v in entries.items()]
    real = importlib.metadata.entry_points

    def fake(**kw):
        return eps if kw.get("group") == ENTRY_POINT_GROUP else real(**kw)

    monkeypatch.setattr(importlib.metadata, "entry_points", fake)


def _env(*paths) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, paths), str(ROOT)]),
            "NUMBA_CACHE_DIR": os.environ.get("NUMBA_CACHE_DIR", "/tmp/nc_user")}


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("byzref: error:"), err
    assert "Traceback" not in err and 'File "' not in err
    return lines[0]


# --- byzref run ----------------------------------------------------------------------------------
def test_run_names_user_components_by_import_path_in_toml_and_set(tmp_path, capsys):
    from byzref.results import load_result

    cfg = tmp_path / "user.toml"
    cfg.write_text(TOML)
    out = tmp_path / "out"
    assert main(["run", str(cfg), "--out", str(out), "--set", "attack.name=userpkg:MeanShift",
                 "--set", "compressor.q=0.25"]) == 0
    res = load_result(next(out.glob("*.json")))
    assert res.status in ("ok", "stalled") and res.run_id in capsys.readouterr().out
    c = res.config
    assert (c["compressor"], c["attack"]["name"]) == ({"name": TOP, "float_bits": 32, "q": 0.25}, ATT)
    assert c["aggregator"] == {"name": f"nnm+{AGG}(extra=1)"}
    assert res.run_id == run_id(normalize({**BASE, "compressor": {"name": TOP, "q": 0.25}}))
    # the bits are the user's: a dense round 0 (8·32), then k = ⌈q·d⌉ = 2 coordinates of 32 + log₂ 8 bits
    assert res.summary["bits_up_per_worker"] == 8 * 32 + 40 * 2 * (32 + 3)


def test_import_path_stage_parses_in_pipelines_and_keeps_its_parameters():
    """'.' and ':' in a stage name never clash with '+', '(', ',' or '='; defaults leave the spec."""
    n = normalize({**BASE, "aggregator": f"bucketing(3) + {AGG}( extra = 0 )"})
    assert n["aggregator"] == {"name": f"bucketing(s=3)+{AGG}"}
    n = normalize({**BASE, "aggregator": {"name": AGG, "extra": 2}})
    assert n["aggregator"] == {"name": f"{AGG}(extra=2)"}
    assert normalize(n) == n


def test_a_user_component_runs_in_the_python_loop_under_auto_and_compiled_refuses_it(monkeypatch):
    from byzref.engine import run

    monkeypatch.setenv("BYZREF_ENGINE", "auto")
    cfg = {**BASE, "T": 20}
    assert run(cfg).status in ("ok", "stalled")
    with pytest.raises(ConfigError, match=r"cannot run compiled.*userpkg:TopFraction"):
        run(cfg, fast=True)


# --- canonical ids -------------------------------------------------------------------------------
def test_canonical_name_is_the_class_import_path_whatever_spelling_was_used():
    ids = {run_id(normalize({**BASE, "compressor": {"name": name, "q": 0.5}}))
           for name in (TOP, "userpkg.alias:TopFraction", "userpkg.alias:TopHalf")}
    assert len(ids) == 1
    alias = normalize({**BASE, "compressor": {"name": "userpkg.alias:TopHalf", "q": 0.5}})
    assert alias["compressor"]["name"] == TOP
    # an import path to a built-in class is the built-in: same config, same id as its registered name
    builtin = {**BASE, "compressor": {"name": "top_k", "k": 2}}
    spelled = {**BASE, "compressor": {"name": "byzref.compressors.top_k:TopK", "k": 2}}
    assert normalize(spelled) == normalize(builtin)


def test_same_run_id_in_another_process_and_entry_names_become_import_paths(dist_info):
    """A child process (entry points from the dist-info) names the components by entry name; its id
    equals this process's id of the import-path config."""
    cfg = {**BASE, "compressor": {"name": "top_fraction", "q": 0.5},
           "attack": {"name": "mean_shift", "z": 1.5}, "aggregator": "nnm+norm_trim(extra=1)"}
    code = ("import json, sys; from byzref.config import normalize, run_id; "
            "c = normalize(json.loads(sys.argv[1])); print(json.dumps([run_id(c), c]))")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(cfg)], capture_output=True, text=True,
                          env=_env(dist_info, TESTS), timeout=120)
    assert proc.returncode == 0, proc.stderr
    rid, child = json.loads(proc.stdout)
    here = normalize(BASE)
    assert child == json.loads(json.dumps(here)) and rid == run_id(here)
    assert normalize(cfg) == here  # and in this process too (dist-info on sys.path)


# --- entry points --------------------------------------------------------------------------------
def test_entry_point_names_resolve_by_family_and_built_ins_keep_priority(monkeypatch):
    from byzref.compressors import COMPRESSORS
    from byzref.compressors.top_k import TopK

    _fake_entry_points(monkeypatch, ENTRY_POINTS)
    n = normalize({**BASE, "compressor": {"name": "top_fraction", "q": 0.5}, "aggregator": "norm_trim",
                   "attack": "mean_shift"})
    assert (n["compressor"]["name"], n["aggregator"]["name"], n["attack"]["name"]) == (TOP, AGG, ATT)
    assert COMPRESSORS.get("top_k") is TopK and "top_fraction" not in COMPRESSORS.names()


def test_byzref_info_is_unchanged_by_entry_points(monkeypatch, capsys):
    _fake_entry_points(monkeypatch, ENTRY_POINTS)
    assert main(["info", "--json"]) == 0
    names = [e["name"] for e in json.loads(capsys.readouterr().out)["compressors"]]
    assert "top_fraction" not in names and TOP not in names


# --- bad names: one ConfigError line, exit status 2 -----------------------------------------------
BAD = [
    ("compressor", {"name": "nopkg_xyz_missing:Foo"},
     ["compressor 'nopkg_xyz_missing:Foo'", "cannot import module"]),
    ("compressor", {"name": "userpkg:Nope"}, ["compressor 'userpkg:Nope'", "no attribute 'Nope'"]),
    ("compressor", {"name": AGG}, [f"compressor '{AGG}'", "is an aggregator class, not a compressor"]),
    ("attack", {"name": "userpkg:NotAComponent"}, ["attack 'userpkg:NotAComponent'", "not a subclass of"]),
    ("attack", {"name": "userpkg:NOT_A_CLASS"}, ["attack 'userpkg:NOT_A_CLASS'", "not a class"]),
    ("compressor", {"name": "a:b:c"}, ["compressor 'a:b:c'", "not an import path"]),
    ("compressor", {"name": "byzref.compressors.base:Compressor"}, ["is the base class Compressor itself"]),
    ("aggregator", f"{AGG}+cwtm", [f"pre-aggregator '{AGG}'", "not a pre-aggregator"]),
    ("algorithm", {"name": "userpkg:TopFraction", "gamma": 0.1}, ["algorithm 'userpkg:TopFraction'",
                                                                  "compressor class, not an algorithm"]),
    ("problem", {"name": "byzref.compressors.base:Compressor"},
     ["problem 'byzref.compressors.base:Compressor'", "compressor class, not a problem"]),
    ("compressor", {"name": "broken"}, ["compressor 'broken'", "entry point", "failed to load",
                                        "userpkg_not_installed_xyz"]),
    ("compressor", {"name": "wrong_family"}, ["compressor 'wrong_family'", "entry point",
                                              "aggregator class, not a compressor"]),
    ("compressor", {"name": TOP, "q": 2}, ["q = 2", "(0, 1]", f"compressor '{TOP}'"]),
    ("compressor", {"name": TOP, "qq": 1}, [f"compressor '{TOP}'", "unknown parameter(s) qq", "accepted"]),
]


@pytest.mark.parametrize(("field", "value", "needles"), BAD, ids=[f"{b[0]}-{b[1]}" for b in BAD])
def test_bad_user_component_is_one_error_line_with_exit_2(field, value, needles, dist_info, tmp_path, capsys):
    toml = tmp_path / "bad.toml"
    toml.write_text("\n".join(f"{k} = {json.dumps(v)}" for k, v in {**BASE, field: value}.items()
                              if not isinstance(v, dict))
                    + "".join(f"\n[{k}]\n" + "\n".join(f"{a} = {json.dumps(b)}" for a, b in v.items())
                              for k, v in {**BASE, field: value}.items() if isinstance(v, dict)) + "\n")
    assert main(["run", str(toml), "--out", str(tmp_path / "out")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    for needle in needles:
        assert needle in line, line
    if "allowed" not in line and "accepted" not in line:
        pytest.fail(f"no allowed values: {line}")
    assert not (tmp_path / "out").exists()


def test_bad_user_component_through_the_real_entry_point(tmp_path):
    toml = tmp_path / "bad.toml"
    toml.write_text(TOML.replace(TOP, "userpkg:Nope"))
    proc = subprocess.run([sys.executable, "-m", "byzref", "run", str(toml), "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=_env(TESTS), timeout=120)
    assert proc.returncode == 2
    assert "compressor 'userpkg:Nope'" in _one_error_line(proc.stderr)


def test_entry_points_with_one_name_twice_are_refused(monkeypatch):
    eps = [importlib.metadata.EntryPoint("dup", v, ENTRY_POINT_GROUP) for v in (TOP, "userpkg.alias:TopHalf")]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda **kw: eps)
    with pytest.raises(ConfigError, match=r"several byzref.components entry points are named 'dup'"):
        normalize({**BASE, "compressor": "dup"})


# --- byzref sweep with worker processes -----------------------------------------------------------
def test_sweep_with_two_worker_processes_runs_user_components(tmp_path, monkeypatch, capsys):
    """The entry point exists only in this process (monkeypatched): the spawned workers can run the
    configs only because the canonical configs hold import paths."""
    from byzref.store import ResultStore

    _fake_entry_points(monkeypatch, ENTRY_POINTS)
    sweep = tmp_path / "sweep.toml"
    text = TOML.replace(f'name = "{ATT}"', 'name = "mean_shift"')  # the entry name of userpkg:MeanShift
    sweep.write_text(text.replace("seed = 0", "seed = [0, 1]"))
    code = main(["sweep", str(sweep), "--out", str(tmp_path / "s"), "--workers", "2"])
    assert code == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "2 runs" in out and "2 worker processes" in out and "0 failed" in out
    recs = ResultStore(tmp_path / "s").records()
    assert sorted(r["run_id"] for r in recs) == sorted(run_id(normalize({**BASE, "seed": s})) for s in (0, 1))
    assert {r["config"]["attack"]["name"] for r in recs} == {ATT}


# --- theory.verify with a claim whose runs name user components ------------------------------------
def test_verify_decides_a_bound_claim_on_user_components():
    import theory
    from theory.claims.bound import BoundClaim
    from theory.verdicts import FAIL, PASS

    run = {k: v for k, v in BASE.items() if k != "seed"}

    def bound(prob, cfg):  # generous: 4·‖∇f(x⁰)‖² for this contractive, robustly aggregated run
        return 4.0 * float(np.sum(prob.grad(prob.x0()) ** 2))

    loose = BoundClaim("user.loose", "user components stay below 4‖∇f(x⁰)‖²", run, bound=bound)
    tight = BoundClaim("user.tight", "and not below 1e-3 of it", run, bound=lambda p, c: bound(p, c) / 4000)
    report = theory.verify([loose, tight], scale="quick", workers=1)
    assert report.n_runs == 4  # the two claims share the runs of the quick scale's four seeds
    assert report["user.loose"].verdict.verdict == PASS
    assert report["user.tight"].verdict.verdict == FAIL


# --- the workflow: property-test the user's compressor with byzref.testing --------------------------
@given(x=st.integers(2, 40).flatmap(lambda d: vectors(d)), q=st.floats(0.05, 1.0))
def test_user_compressor_passes_byzref_testing_checks(x, q):
    from userpkg import TopFraction

    from byzref.testing import check_contract, check_contractive

    comp = TopFraction(q=q)
    check_contractive(comp, x)  # with the declared α(d) = ⌈q·d⌉/d
    check_contract(comp, x.size)


def test_errors_carry_no_traceback_frames_of_the_resolver():
    """The ConfigError of a failed import is raised from None: no chained ImportError to print."""
    with pytest.raises(ConfigError) as exc:
        normalize({**BASE, "compressor": "nopkg_xyz_missing:Foo"})
    assert exc.value.__cause__ is None and exc.value.__suppress_context__
