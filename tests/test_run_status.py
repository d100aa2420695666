"""Run status: ok / stalled / diverged, by the documented rule (byzref.engine.progress_ratio)."""

import math
import tomllib
from pathlib import Path

import numpy as np
import pytest

from byzref.cli import apply_overrides, main
from byzref.engine import STALL_RATIO, progress_ratio, run

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "byz_dm21_alie.toml"


def example(*overrides):
    return apply_overrides(tomllib.loads(EXAMPLE.read_text()), list(overrides))


@pytest.mark.parametrize(("grad_sq", "iters", "T", "expected"), [
    # second half = checkpoints with t ≥ 5: values 4, 2, 6 → median 4, over start 8
    ([8.0, 7.0, 4.0, 2.0, 6.0], [0, 2, 5, 8, 10], 10, 0.5),
    ([10.0, 1.0, 0.01, 0.01], [0, 1, 50, 100], 100, 0.001),
    ([1.0, 3.0], [0, 4], 4, 3.0),                # ends above its start
    ([0.0, 1.0], [0, 4], 4, math.nan),           # x⁰ stationary: no ratio
])
def test_progress_ratio_is_second_half_median_over_start(grad_sq, iters, T, expected):
    r = progress_ratio({"grad_sq": np.array(grad_sq), "iteration": np.array(iters)}, T)
    assert (math.isnan(r) and math.isnan(expected)) or r == pytest.approx(expected, rel=1e-15)


def test_readme_demo_with_small_eta_is_stalled_and_default_is_ok():
    ok = run(example("T=4000"))
    assert ok.status == "ok" and ok.summary["progress_ratio"] < 1e-3
    stalled = run(example("T=20000", "algorithm.eta=0.05"))
    assert stalled.status == "stalled" and stalled.diverged_at is None
    assert STALL_RATIO <= stalled.summary["progress_ratio"] < 1.0
    assert len(stalled.curves["iteration"]) > 100  # the data are kept


def test_dm21_stalls_where_ef21_sgdm_converges():
    base = ("T=20000", "algorithm.gamma=0.1", 'attack="none"', "f=0", 'aggregator="mean"')
    assert run(example(*base)).status == "stalled"
    assert run(example(*base, 'algorithm.name="byz_ef21_sgdm"')).status == "ok"


def test_diverged_run_is_not_reclassified():
    res = run(example("T=200", "algorithm.gamma=50.0"))
    assert res.status == "diverged" and res.diverged_at is not None
    assert math.isnan(res.summary["progress_ratio"])


def test_cli_run_reports_stalled_and_warns(tmp_path, capsys):
    assert main(["run", str(EXAMPLE), "--out", str(tmp_path), "--set", "T=20000",
                 "--set", "algorithm.eta=0.05"]) == 3
    out, err = capsys.readouterr()
    assert "status        stalled (second-half median ‖∇f‖²" in out
    assert "warning: the run stalled" in err
    assert len(list(tmp_path.glob("*.json"))) == 1  # still written


def test_sweep_totals_count_stalled(tmp_path, capsys):
    sweep = tmp_path / "s.toml"
    text = EXAMPLE.read_text().replace("T = 5000", "T = 20000").replace("eta = 0.1", "eta = [0.1, 0.05]")
    sweep.write_text(text)
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "store"), "--workers", "1"]) == 0
    out, err = capsys.readouterr()
    assert "done: 1 ok, 1 stalled, 0 diverged, 0 failed" in out
    assert "1 run(s) stalled" in err
    # the figure marks the stalled line, and its sidecar counts the statuses per line
    import json

    from plots.cli import build_figure

    fig_path = tmp_path / "c.png"
    assert main(["plot", str(tmp_path / "store"), "--kind", "curves", "--out", str(fig_path)]) == 0
    side = json.loads(fig_path.with_name("c.png.json").read_text())
    statuses = sorted(tuple(sorted(ln["statuses"].items())) for p in side["panels"] for ln in p["lines"])
    assert statuses == [(("ok", 1),), (("stalled", 1),)]
    fig = build_figure(str(tmp_path / "store"), "curves")[0]
    marks = [t for ax in fig.axes for t in ax.texts if t.get_gid() == "status:stalled"]
    assert [t.get_text() for t in marks] == ["stalled"]
