"""End to end: `byzref verify --quick --negative-controls`, exit status, determinism, README example."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import theory
from byzref.cli import main
from theory import FAIL, PASS, Report, Scale, Verdict
from theory.claims.base import ClaimResult
from theory.runner import key, run_all
from theory.verdicts import NOT_OBSERVED


def test_quick_verify_through_the_cli(tmp_path, capsys, monkeypatch):
    out = tmp_path / "v"
    rc = main(["verify", "--quick", "--negative-controls", "--out", str(out)])
    text, err = capsys.readouterr()
    assert "(100%)" in err  # progress lines off a terminal too
    rep = json.loads((out / "report.json").read_text())
    claims = {c["id"]: c for c in rep["claims"]}
    assert len(claims) == 23  # 12 Monte-Carlo and constant claims, 7 exact claims, 4 + 1 negative controls
    assert all(c["verdict"] in ("PASS", "FAIL", "INCONCLUSIVE", "NOT OBSERVED") for c in claims.values())
    for cid in ("byz_dm21.rate", "byz_vr_dm21.rate", "vr_separation", "byz_dm21.neighborhood", "batch_one",
                "byz_dm21.pl_linear_rate", "byz_vr_dm21.pl_linear_rate", "compressors.constants"):
        assert claims[cid]["verdict"] == PASS, (cid, claims[cid]["decision"]["reason"])
    # an ordering of upper bounds is never FAILed (it can only be PASS, NOT OBSERVED or INCONCLUSIVE)
    assert claims["neighborhood_comparison"]["verdict"] != FAIL
    assert claims["neighborhood_comparison"]["kind"] == "neighborhood_map"
    for cid in ("exact.byz_dm21.rate", "exact.byz_vr_dm21.rate"):
        assert claims[cid]["verdict"] == PASS, (cid, claims[cid]["decision"]["reason"])
    # the one-sample round 0 of Byz-VR-DM21 is a reported finding (informational), never hidden
    one = claims["exact.byz_vr_dm21.rate_one_sample_init"]
    assert one["informational"] and one["verdict"] == FAIL and one["display"] == "INFO (FAIL)"
    for cid in ("neg.vr_without_storm", "neg.dm21_constant_eta", "neg.mean_alie_neighborhood",
                "neg.map_mean_reference", "exact.neg.vr_without_storm"):
        assert claims[cid]["negative_control"] and claims[cid]["verdict"] == FAIL, cid
    # the fitted exponents themselves, not only the verdicts
    assert -0.55 < claims["byz_dm21.rate"]["data"]["slope"] < -0.45
    assert claims["byz_vr_dm21.rate"]["data"]["slope"] < -0.6
    assert claims["neg.vr_without_storm"]["data"]["slope"] > -0.3
    assert rc == (0 if rep["ok"] else 1)
    assert rep["ok"] == all(c["as_required"] for c in claims.values())
    assert (out / "report.md").read_text().count("| `") == 23
    # one rendered figure per claim, named after its id, failing and informational claims included
    from theory.figures import figure_name

    pngs = {p.name: p for p in out.glob("*.png")}
    assert set(pngs) == {figure_name(cid) for cid in claims}
    png = b"\x89PNG\r\n\x1a\n"
    assert all(p.read_bytes()[:8] == png and p.stat().st_size > 20_000 for p in pngs.values())
    assert rep["figures"] and all(Path(f).name in pngs for f in rep["figures"])
    assert {c["display"] for c in claims.values() if c["informational"]} <= {"INFO", "INFO (FAIL)",
                                                                             "INFO (INCONCLUSIVE)"}
    assert "INFO" in text  # the printed table shows informational claims as INFO
    assert "byz_dm21.rate" in text and "wall time" in text
    assert rep["wall_time_s"] < 90
    # a rerun into the same folder reads every run back from OUT/runs (none is recomputed) and keeps
    # the earlier report under a new name
    import byzref._sweep_exec as ex

    def no_run(cfg):
        raise AssertionError("a stored run was recomputed")

    monkeypatch.setattr(ex, "_run_one", no_run)
    first_md = (out / "report.md").read_text()
    assert main(["verify", "--quick", "--negative-controls", "--out", str(out), "--workers", "1",
                 "--no-figures"]) == rc
    kept = sorted(out.glob("report-*.md"))
    assert len(kept) == 1 and kept[0].read_text() == first_md and len(list(out.glob("report-*.json"))) == 1
    again = json.loads((out / "report.json").read_text())
    assert [c["verdict"] for c in again["claims"]] == [c["verdict"] for c in rep["claims"]]
    assert [c["data"] for c in again["claims"]] == [c["data"] for c in rep["claims"]]


def _fake_report(verdict: str, negative: bool = False) -> Report:
    r = ClaimResult("c", "rate", "t", "s", "", Verdict(verdict, "crit"), negative_control=negative)
    return Report(Scale("quick", (1, 2), (0,)), [r], 0.0, 0)


@pytest.mark.parametrize("verdict,negative,flags,rc", [
    (PASS, False, [], 0), (FAIL, False, [], 1), (FAIL, False, ["--no-fail-exit"], 0),
    (FAIL, True, [], 0), (PASS, True, [], 1),   # a negative control that does not FAIL is a failure
    (NOT_OBSERVED, False, [], 0),               # an ordering of upper bounds not seen is not a failure
    (NOT_OBSERVED, True, [], 1),
])
def test_exit_status(monkeypatch, capsys, verdict, negative, flags, rc):
    monkeypatch.setattr(theory, "verify", lambda **kw: _fake_report(verdict, negative))
    assert main(["verify", "--quick", *flags]) == rc
    capsys.readouterr()


def test_parallel_runs_are_bit_identical_to_serial():
    cfgs = [{"seed": s, "n": 8, "f": 2, "T": 300, "problem": {"name": "nonconvex_synthetic", "d": 10},
             "algorithm": {"name": a, "gamma": 0.05, "eta": 0.1}, "compressor": {"name": "top_k", "k": 2},
             "aggregator": "cwtm", "attack": "alie"} for s in (0, 1) for a in ("byz_dm21", "byz_vr_dm21")]
    serial, parallel = run_all(cfgs, workers=1), run_all(cfgs, workers=2)
    longest_first = sorted(cfgs, key=lambda c: -(2 if c["algorithm"]["name"] == "byz_vr_dm21" else 1))
    assert list(serial) == list(parallel) == [key(c) for c in longest_first]
    for k, rec in serial.items():
        assert rec["summary"] == parallel[k]["summary"] and rec["curves"] == parallel[k]["curves"]


@pytest.mark.slow
def test_default_scale_verdicts():
    """The default suite (about 90 s on 2 cores): the paper's rates pass, the negative controls fail."""
    rep = theory.verify(scale="default", negative_controls=True)
    v = {r.id: r.verdict.verdict for r in rep.results}
    assert v["byz_dm21.rate"] == v["byz_vr_dm21.rate"] == v["vr_separation"] == PASS
    assert v["neg.vr_without_storm"] == v["neg.dm21_constant_eta"] == v["neg.mean_alie_neighborhood"] == FAIL
    assert v["neg.map_mean_reference"] == FAIL and v["neighborhood_comparison"] != FAIL


def test_run_all_with_a_store_reuses_finished_runs(tmp_path):
    """`byzref verify --full` keeps its runs in a store: a rerun reuses them instead of running again."""
    cfgs = [{"seed": s, "n": 4, "T": 50, "problem": {"name": "nonconvex_synthetic", "d": 5},
             "algorithm": {"name": "byz_dm21", "gamma": 0.1, "eta": 0.5}} for s in (0, 1)]
    first = run_all(cfgs, workers=1, store_dir=tmp_path)
    lines = (tmp_path / "runs.jsonl").read_text().splitlines()
    assert len(lines) == 2
    second = run_all(cfgs + cfgs[:1], workers=1, store_dir=tmp_path)
    assert second == first
    assert (tmp_path / "runs.jsonl").read_text().splitlines() == lines


def test_run_all_gives_the_records_a_rerun_reads_back_from_the_store(tmp_path):
    """run_all keeps the records of the runs it ran as they finish; a rerun reads them from the store.
    Both must be the same, diverged runs (inf/NaN in their summaries) and stalled ones included."""
    import json

    base = {"n": 4, "T": 60, "problem": {"name": "nonconvex_synthetic", "d": 5},
            "algorithm": {"name": "byz_dm21", "eta": 0.5}}
    cfgs = [{**base, "seed": 0, "algorithm": {**base["algorithm"], "gamma": 0.1}},
            {**base, "seed": 0, "algorithm": {**base["algorithm"], "gamma": 1e6}},   # diverges
            {**base, "seed": 1, "problem": {**base["problem"], "x0_scale": 0.0, "sigma2": 0.0},
             "algorithm": {**base["algorithm"], "gamma": 0.1}}]                     # starts at x* = 0
    fresh = run_all(cfgs, workers=1, store_dir=tmp_path)
    assert {r["status"] for r in fresh.values()} >= {"ok", "diverged"}
    again = run_all(cfgs, workers=1, store_dir=tmp_path)
    assert json.dumps(fresh, sort_keys=True) == json.dumps(again, sort_keys=True)


def test_component_claims_run_without_hypothesis(tmp_path):
    # README command (a) installs byzref without the test extra: the verifier's component claims
    # use byzref.testing's checks, which must import without hypothesis
    import os
    import subprocess
    import sys

    (tmp_path / "hypothesis.py").write_text("raise ImportError('hypothesis is not installed')\n")
    code = ("from theory import verify\n"
            "from theory.suite import builtin_claims\n"
            "ids = ('compressors.constants', 'aggregators.kappa')\n"
            "claims = [c for c in builtin_claims() if c.id in ids]\n"
            "assert len(claims) == 2\n"
            "rep = verify(claims, scale='quick', workers=1)\n"
            "print(sorted(r.verdict.verdict for r in rep.results))\n"
            "import byzref.testing\n"
            "try:\n"
            "    byzref.testing.vectors\n"
            "except ImportError as e:\n"
            "    print('strategies need hypothesis:', e)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    assert "['PASS', 'PASS']" in out.stdout
    assert "strategies need hypothesis: hypothesis is not installed" in out.stdout
