"""The neighborhood map (claim kind "neighborhood_map"): the ordering rule on hand-made CIs, the claim on
hand-made run records (tuning, cell states, verdicts), the exit status and summary line of `byzref verify`
for NOT OBSERVED, the report section and the heat-map figure. No engine runs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import theory
from byzref.cli import main
from theory import FAIL, INCONCLUSIVE, PASS, Report, Scale, Verdict
from theory.claims.base import ClaimResult
from theory.claims.neighborhood import MapPlan, NeighborhoodMapClaim, apply_cell
from theory.figures import claim_figure
from theory.runner import key
from theory.verdicts import NOT_OBSERVED, NOT_SEEN, SEEN, UNDECIDED, ordering_state, ordering_verdict

SCALE = Scale("t", (512, 1024), (0, 1, 2, 3), 1000)
PLAN = MapPlan((("base", {}), ("noisy", {"sigma2": 1.0, "zeta2": 0.01})), (0.1, 0.4), (0.2, 1.0), 400,
               (1000, 1001), (0, 1, 2, 3))
METHODS = [{"label": "A", "algorithm": {"name": "byz_dm21"}, "second": "eta"},
           {"label": "B", "algorithm": {"name": "byz_ef21_sgdm"}, "second": "eta"}]


# ------------------------------------------------------------------------------------------- the rule


def _cells(*cis):
    return [{"name": f"c{i}", "ci": ci} for i, ci in enumerate(cis)]


def test_ordering_state_by_hand():
    assert ordering_state((-0.3, -0.01)) == SEEN
    assert ordering_state((0.01, 0.3)) == NOT_SEEN
    assert ordering_state((-0.01, 0.01)) == UNDECIDED
    assert ordering_state((0.0, 0.0)) == UNDECIDED  # identical runs: neither smaller nor larger
    assert ordering_state(None) == UNDECIDED
    assert ordering_state((math.nan, 0.2)) == UNDECIDED


@pytest.mark.parametrize("cis,max_ratio,expected", [
    ([(-0.3, -0.1), (-0.2, -0.05)], None, PASS),                 # seen in every cell
    ([(-0.3, -0.1), (0.05, 0.2)], None, NOT_OBSERVED),           # one cell shows the reverse
    ([(-0.3, -0.1), (-0.05, 0.02)], None, INCONCLUSIVE),         # none reversed, one inconclusive
    ([(0.5, 0.9), (0.4, 1.2)], None, NOT_OBSERVED),              # reversed everywhere: still never FAIL
    ([(0.5, 0.9), (-0.2, -0.1)], 1.0, FAIL),                     # stated constant 1 exceeded in one cell
    ([(0.05, 0.2), (-0.2, -0.1)], 2.0, NOT_OBSERVED),            # reversed but within the stated 2×
    ([(-0.3, -0.1)], 1.0, PASS),
    ([], None, INCONCLUSIVE),
])
def test_ordering_verdict(cis, max_ratio, expected):
    v = ordering_verdict(_cells(*cis), max_ratio=max_ratio)
    assert v.verdict == expected, v.reason
    states = [ordering_state(ci) for ci in cis]
    assert v.measured["seen"] == [f"c{i}" for i, s in enumerate(states) if s == SEEN]
    assert v.measured["not_seen"] == [f"c{i}" for i, s in enumerate(states) if s == NOT_SEEN]
    assert v.measured["inconclusive"] == [f"c{i}" for i, s in enumerate(states) if s == UNDECIDED]
    if expected == NOT_OBSERVED:  # the reason names the cells where the ordering is not seen
        assert all(c in v.reason for c in v.measured["not_seen"])


def test_plan_validation():
    with pytest.raises(ValueError, match="disjoint"):
        MapPlan((("b", {}),), (0.1,), (0.2,), 100, (0, 1), (1, 2))
    with pytest.raises(ValueError, match="unknown keys"):
        MapPlan((("b", {"gamma": 1}),), (0.1,), (0.2,), 100, (9,), (1, 2))
    with pytest.raises(ValueError, match="max_ratio"):
        NeighborhoodMapClaim("x", "x", METHODS, {"quick": PLAN}, max_ratio=0.0)
    with pytest.raises(ValueError, match="decide_on"):
        NeighborhoodMapClaim("x", "x", METHODS, {"quick": PLAN}, decide_on=("slope",))
    run = apply_cell({"problem": {"name": "p", "sigma2": 0.0}, "compressor": {"name": "top_k", "k": 4},
                      "f": 4}, {"sigma2": 2, "k": 10, "f": 2, "aggregator": "cwmed"})
    assert run == {"problem": {"name": "p", "sigma2": 2.0}, "compressor": {"name": "top_k", "k": 10}, "f": 2,
                   "aggregator": "cwmed"}


# ------------------------------------------------------------------------------ the claim on records


def _claim(**kw) -> NeighborhoodMapClaim:
    return NeighborhoodMapClaim("map", "A's plateau < B's", METHODS, {"quick": PLAN}, **kw)


def _records(claim: NeighborhoodMapClaim, plateau, avg=None, diverged=lambda cfg: False) -> dict:
    """plateau(label, cell name, gamma·L, second, seed) -> constant ‖∇f‖² curve; avg: avg_grad_sq."""
    recs = {}
    plan = claim.plan(SCALE)
    for cname, cell in plan.cells:
        for m in claim.methods:
            for alg in claim._grid(plan, cell, m):
                for cfg in claim._cfgs(plan, cell, m, alg, plan.tune_seeds + plan.report_seeds):
                    g = round(alg["gamma"] * 3.0, 6)  # L = 3 on the default problem
                    p = plateau(m["label"], cname, g, alg[m["second"]], cfg["seed"])
                    a = (avg or plateau)(m["label"], cname, g, alg[m["second"]], cfg["seed"])
                    t = list(range(0, cfg["T"] + 1, max(1, cfg["T"] // 50)))
                    recs[key(cfg)] = {"status": "diverged" if diverged(cfg) else "ok",
                                      "summary": {"avg_grad_sq": a},
                                      "curves": {"iteration": t, "grad_sq": [p] * len(t)}}
    return recs


def _noise(seed):
    return 1.0 + 0.02 * math.sin(3.0 * seed + 1.0)


def test_every_config_is_listed_up_front_and_uses_disjoint_seeds():
    claim = _claim()
    cfgs = claim.configs(SCALE)
    assert len(cfgs) == 2 * 2 * 4 * 6  # cells × methods × grid points × (tune + report seeds)
    assert {c["seed"] for c in cfgs} == {1000, 1001, 0, 1, 2, 3}
    assert {c["T"] for c in cfgs} == {SCALE.T_plateau}  # a scale without a plan: its own horizon and seeds
    assert {c["T"] for c in claim.configs(Scale("quick", (1,), (0, 1), 50))} == {400}  # the plan's
    noisy = [c for c in cfgs if c["problem"]["sigma2"] == 1.0]
    assert len(noisy) == len(cfgs) // 2 and all(c["problem"]["zeta2"] == 0.01 for c in noisy)
    gammas = sorted({round(c["algorithm"]["gamma"] * 3.0, 9) for c in cfgs})
    assert gammas == [0.1, 0.4]


def test_reference_smaller_everywhere_passes_and_tuning_picks_each_methods_best():
    claim = _claim()

    def plateau(label, cell, g, s, seed):  # A best at (0.4, 0.2), B best at (0.1, 1.0); A 20% smaller
        best = (0.4, 0.2) if label == "A" else (0.1, 1.0)
        base = 0.8 if label == "A" else 1.0
        return base * (1.0 if (g, s) == best else 3.0) * _noise(seed)

    res = claim.evaluate(_records(claim, plateau), SCALE)
    assert res.verdict.verdict == PASS, res.verdict.reason
    cell = res.data["cells"][0]
    assert cell["tuned"]["plateau"]["A"]["gamma_L"] == pytest.approx(0.4)
    assert cell["tuned"]["plateau"]["A"]["eta"] == 0.2
    assert cell["tuned"]["plateau"]["B"]["gamma_L"] == pytest.approx(0.1)
    assert cell["tuned"]["plateau"]["B"]["eta"] == 1.0
    comp = next(c for c in cell["comparisons"] if c["criterion"] == "plateau")
    assert comp["log_ratio"] == pytest.approx(math.log(0.8), abs=1e-12)  # same noise on both: exact
    assert comp["state"] == SEEN
    assert res.data["counts"] == {"seen": 2, "not seen": 0, "inconclusive": 0}


def test_tuning_uses_the_tuning_seeds_only():
    claim = _claim()

    def plateau(label, cell, g, s, seed):  # on the tuning seeds (0.1, 0.2) looks best, on the others not
        tuning = seed >= 1000
        good = (g, s) == (0.1, 0.2)
        return (0.5 if good == tuning else 2.0) * _noise(seed)

    res = claim.evaluate(_records(claim, plateau), SCALE)
    for cell in res.data["cells"]:
        for lab in ("A", "B"):
            assert cell["tuned"]["plateau"][lab]["gamma_L"] == pytest.approx(0.1)
            assert cell["values"]["plateau"][lab] == pytest.approx([2.0 * _noise(s) for s in (0, 1, 2, 3)])


def test_reversed_cell_is_not_observed_and_named_tie_is_inconclusive():
    claim = _claim()

    def plateau(label, cell, g, s, seed):
        if cell == "noisy":  # A's plateau 25% larger: the ordering is not seen there
            return (1.25 if label == "A" else 1.0) * _noise(seed)
        return (0.7 if label == "A" else 1.0) * _noise(seed)

    res = claim.evaluate(_records(claim, plateau), SCALE)
    assert res.verdict.verdict == NOT_OBSERVED
    assert res.verdict.measured["not_seen"] == ["noisy vs B"]
    assert res.verdict.measured["seen"] == ["base vs B"]
    assert "noisy vs B" in res.verdict.reason
    assert res.ok  # NOT OBSERVED is as required for an ordinary claim
    tie = claim.evaluate(_records(claim, lambda lab, c, g, s, seed: _noise(seed)), SCALE)
    assert tie.verdict.verdict == INCONCLUSIVE
    notes = {c["note"] for cell in tie.data["cells"] for c in cell["comparisons"]}
    assert notes == {"identical on every seed"}


def test_explicit_constant_exceeded_fails_and_a_negative_control_is_as_required():
    def plateau(label, cell, g, s, seed):
        return (5.0 if label == "A" else 1.0) * _noise(seed)

    plain = _claim()
    assert plain.evaluate(_records(plain, plateau), SCALE).verdict.verdict == NOT_OBSERVED
    bounded = _claim(max_ratio=1.0, negative_control=True)
    res = bounded.evaluate(_records(bounded, plateau), SCALE)
    assert res.verdict.verdict == FAIL and res.ok
    assert res.verdict.measured["bound_exceeded"] == ["base vs B", "noisy vs B"]
    notes = {c["criterion"]: c["note"] for c in res.data["cells"][0]["comparisons"]}
    assert notes == {"plateau": "exceeds the stated bound ratio ≤ 1", "avg_grad_sq": ""}
    loose = _claim(max_ratio=10.0)  # within the stated constant: no FAIL
    assert loose.evaluate(_records(loose, plateau), SCALE).verdict.verdict == NOT_OBSERVED


def test_decided_on_the_plateau_only_unless_asked():
    claim = _claim()

    def plateau(label, cell, g, s, seed):
        return (0.7 if label == "A" else 1.0) * _noise(seed)

    def avg(label, cell, g, s, seed):  # A's avg ‖∇f‖² larger: reported, not counted
        return (1.5 if label == "A" else 1.0) * _noise(seed)

    res = claim.evaluate(_records(claim, plateau, avg), SCALE)
    assert res.verdict.verdict == PASS
    assert res.data["other_criterion_seen"] == [0, 2]
    both = _claim(decide_on=("plateau", "avg_grad_sq"))
    assert both.evaluate(_records(both, plateau, avg), SCALE).verdict.verdict == NOT_OBSERVED


def test_divergence_makes_a_grid_point_lose_and_a_tuned_point_inconclusive():
    claim = _claim()

    def plateau(label, cell, g, s, seed):
        return (0.5 if (g, s) == (0.4, 1.0) else 1.0) * (0.7 if label == "A" else 1.0) * _noise(seed)

    # the best point of A diverges on a tuning seed: it is not chosen; the ordering is still seen
    div = claim.evaluate(_records(claim, plateau, diverged=lambda c: c["seed"] == 1000 and c["algorithm"]
                                  ["name"] == "byz_dm21" and c["algorithm"]["eta"] == 1.0), SCALE)
    cell = div.data["cells"][0]
    assert cell["tuned"]["plateau"]["A"]["eta"] == 0.2
    # A diverges at its chosen point on a report seed: that cell is inconclusive, with a note
    res = claim.evaluate(_records(claim, plateau, diverged=lambda c: c["seed"] == 2 and c["algorithm"]
                                  ["name"] == "byz_dm21" and c["algorithm"]["eta"] == 1.0
                                  and c["problem"]["sigma2"] == 1.0), SCALE)
    noisy = res.data["cells"][1]["comparisons"][0]
    assert noisy["state"] == UNDECIDED and "diverged" in noisy["note"] and noisy["ci"] is None
    assert res.verdict.verdict == INCONCLUSIVE
    # every point diverges: no stable grid point
    none = claim.evaluate(_records(claim, plateau, diverged=lambda c: c["algorithm"]["name"] == "byz_dm21"),
                          SCALE)
    assert {c["note"] for c in none.data["cells"][0]["comparisons"]} == {"no stable grid point"}


def test_builtin_map_and_negative_control_scales():
    from theory.suite import MAP_PLANS, SCALES, builtin_claims, negative_controls

    claim = next(c for c in builtin_claims() if c.id == "neighborhood_comparison")
    assert claim.kind == "neighborhood_map" and claim.max_ratio is None
    neg = next(c for c in negative_controls() if c.kind == "neighborhood_map")
    assert neg.negative_control and neg.max_ratio == 1.0
    n = {s: len(claim.configs(SCALES[s])) for s in ("quick", "default")}
    # cells × Σ_methods grid points × (tuning + report seeds); MARINA has its own 3 values of p
    assert n == {"quick": 2 * (4 + 4 + 6) * 4, "default": 6 * (9 + 9 + 9) * 6}
    for plan in MAP_PLANS.values():  # tuning seeds never reported
        assert not set(plan.tune_seeds) & set(plan.report_seeds)
    for s in ("quick", "default", "full"):
        assert not set(MAP_PLANS[s].tune_seeds) & set(SCALES[s].seeds)


# ------------------------------------------------------------------- exit status, summary, report, figure


def _map_result(verdict_of=None) -> ClaimResult:
    claim = _claim()

    def plateau(label, cell, g, s, seed):
        return ((1.25 if cell == "noisy" else 0.7) if label == "A" else 1.0) * _noise(seed)

    return claim.evaluate(_records(claim, plateau), SCALE)


@pytest.mark.parametrize("verdict,rc", [(NOT_OBSERVED, 0), (FAIL, 1), (INCONCLUSIVE, 0)])
def test_exit_status_and_summary_line_name_not_observed(monkeypatch, capsys, verdict, rc):
    rs = [ClaimResult("c.ordering", "comparison", "t", "s", "", Verdict(verdict, "crit")),
          ClaimResult("c.rate", "rate", "t", "s", "", Verdict(PASS, "crit"))]
    rep = Report(Scale("quick", (1, 2), (0,)), rs, 0.0, 0)
    monkeypatch.setattr(theory, "verify", lambda **kw: rep)
    assert main(["verify", "--quick"]) == rc
    out = capsys.readouterr().out
    last = next(ln for ln in out.splitlines() if " claims, " in ln)
    if verdict == NOT_OBSERVED:
        assert "NOT OBSERVED (not a failure): c.ordering" in last
        assert "all claims as required" in last
        assert "NOT OBSERVED (not a failure): c.ordering" in out.splitlines()[-1]
    else:
        assert "NOT OBSERVED" not in out


def test_report_section_lists_every_cell_and_the_glossary_defines_the_terms(tmp_path):
    import plots.io

    r = _map_result()
    rep = Report(SCALE, [r], 1.0, 10)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots.io, "save", lambda fig, path, dpi=150: path.write_bytes(b"") or path)
        rep.write(tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert "Overall: **as required** (NOT OBSERVED, not a failure: `map`)" in md
    for term in ("NOT OBSERVED", "seen / not seen / inconclusive", "cell", "tuned"):
        assert f"- **{term}**:" in md
    row = next(ln for ln in md.splitlines() if ln.startswith("| `map`"))
    assert "seen = 1 of 2; not seen = 1 of 2; inconclusive = 0 of 2" in row
    assert "Δplateau (range over cells) = −30.0% … +25.0%" in row
    table = [ln for ln in md.splitlines() if ln.startswith("  | base") or ln.startswith("  | noisy")]
    assert len(table) == 2
    assert "| seen |" in table[0] and "| not seen |" in table[1]
    assert "−30.0%" in table[0] and "+25.0%" in table[1]


def test_heat_map_figure(tmp_path):
    r = _map_result()
    fig = claim_figure(r)
    heat = [ax for ax in fig.axes if ax.get_images()]
    assert len(heat) == 2  # one per tuning protocol, plus one colour bar
    assert len(fig.axes) == 3
    ax = heat[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["base", "noisy"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["vs B"]
    assert "decides the verdict" in ax.get_title() and "not counted" in heat[1].get_title()
    frames = {p.get_gid() for p in ax.patches}
    assert frames == {"seen:0:0"}  # only the cell where the ordering is seen is framed
    texts = [t.get_text() for t in ax.texts]
    assert texts[0].startswith("−30.0%") and texts[0].endswith("seen")
    assert texts[1].startswith("+25.0%") and texts[1].endswith("NOT seen")
    img = ax.get_images()[0].get_array()
    assert img[0, 0] == pytest.approx(math.log(0.7)) and img[1, 0] == pytest.approx(math.log(1.25))
    lo, hi = ax.get_images()[0].get_clim()
    assert lo == -hi and hi == pytest.approx(max(abs(math.log(0.7)), math.log(1.25)))
    from plots.io import save

    out = save(fig, tmp_path / "map.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="states"):
        from plots.neighborhood import plot_neighborhood_map

        plot_neighborhood_map(fig.add_subplot(), ["a"], ["b"], np.zeros((1, 1)), np.zeros((1, 1, 2)), [])
