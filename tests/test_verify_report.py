"""report.md, report.json and the figures of `byzref verify`, on claims decided from hand-made run records.

The built-in claims (and the negative controls) are evaluated on synthetic records (no engine runs), so
every claim kind produces realistic data in well under a second; the figures are inspected as matplotlib
objects (lines found by their gid) and the report texts are parsed.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest

from theory import PASS, Report, Scale, Verdict
from theory.claims.base import ClaimResult
from theory.figures import claim_figure, figure_name
from theory.report import GLOSSARY
from theory.runner import key
from theory.suite import builtin_claims, negative_controls

SCALE = Scale("t", tuple(2**k for k in range(9, 14)), (0, 1, 2), 1000)


def _noise(cfg) -> float:
    return math.exp(0.03 * math.sin(7 * cfg["seed"] + cfg["T"] % 97))


def _record(cfg: dict) -> dict:
    """A plausible record of ``cfg``: avg_grad_sq ∝ η (or ∝ √γ·σ² without η), plateaus ∝ δζ²·min(z, 2)²,
    and for the PL problem f − f* contracting at rate 2.5γμ down to a floor ∝ σ²."""
    alg, prob, T = cfg["algorithm"], cfg["problem"], cfg["T"]
    avg = 3 * alg["eta"] if "eta" in alg else 3 * math.sqrt(alg["gamma"]) * prob["sigma2"] ** 0.5
    t = np.arange(0, T + 1, max(1, T // 50), dtype=float)
    z = cfg["attack"].get("z", 0.16) if isinstance(cfg.get("attack"), dict) else 0.16
    plateau = 0.05 * cfg["f"] / cfg["n"] * prob.get("zeta2", 0.0) * min(z, 2.0) ** 2 + 1e-6
    if prob["name"] == "quadratic":
        t = np.arange(0, T + 1, 10, dtype=float)
        rate = 2.5 * alg["gamma"] * prob["mu"]
        gap = 4.0 * np.exp(-rate * t) + 2e-3 * prob["sigma2"] * (1 + 0.1 * np.sin(t + cfg["seed"]))
    else:
        gap = np.full_like(t, plateau)
    n = _noise(cfg)
    return {"status": "ok", "summary": {"avg_grad_sq": avg * n},
            "curves": {"iteration": t.tolist(), "grad_sq": (np.full_like(t, plateau) * n).tolist(),
                       "f_gap": (gap * n).tolist()}}


@pytest.fixture(scope="module")
def report() -> Report:
    claims = builtin_claims() + negative_controls()
    records = {key(c): _record(c) for claim in claims for c in claim.configs(SCALE)}
    results = [c.evaluate(records, SCALE) for c in claims]
    return Report(SCALE, results, 1.234567, len(records), {"byzref": "x"})


@pytest.fixture(scope="module")
def written(report, tmp_path_factory):
    """report.write into a folder; the figures are drawn but not rendered to PNG (about 1 s each; the quick
    verify test in test_theory_verify.py renders every one), so each figure file is an empty stand-in."""
    import plots.io

    def fake_save(fig, path, dpi=150):
        assert fig.axes
        path.write_bytes(b"")
        return path

    out = tmp_path_factory.mktemp("verify")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(plots.io, "save", fake_save)
        report.write(out)
    return out


def _lines(fig, prefix: str) -> dict:
    return {ln.get_gid(): ln for ax in fig.axes for ln in ax.get_lines()
            if ln.get_gid() and ln.get_gid().startswith(prefix)}


def _legend_texts(ax) -> list[str]:
    """The texts of the axes' legend, or of the figure's legend (placed below a one-panel figure)."""
    legs = [ax.get_legend()] if ax.get_legend() else list(ax.figure.legends)
    return [t.get_text() for leg in legs for t in leg.get_texts()]


# ------------------------------------------------------------------------------------------ figures


def test_one_figure_per_claim_named_after_its_id(report, written):
    names = {p.name for p in written.glob("*.png")}
    assert names == {figure_name(r.id) for r in report.results}
    assert len(names) == len(report.results) == 23
    assert all(not n.startswith(("rates", "neighborhood.png", "pl.png")) for n in names)
    md = (written / "report.md").read_text()
    for r in report.results:  # every claim's section links its own figure
        assert f"![{r.id}]({figure_name(r.id)})" in md
    assert figure_name("a/b c:d") == "a_b_c_d.png"


def test_rate_reference_line_is_anchored_on_the_curve_it_refers_to(report):
    for cid, name, p in (("byz_vr_dm21.rate", "Byz-VR-DM21", -2 / 3), ("byz_dm21.rate", "Byz-DM21", -1 / 2)):
        r = report[cid]
        fig = claim_figure(r)
        ref = _lines(fig, "reference:")
        assert list(ref) == [f"reference:{name}"]
        x, y = (np.asarray(v, dtype=float) for v in ref[f"reference:{name}"].get_data())
        fit = r.data["fit"]
        T0 = min(r.data["T"])
        assert x[0] == T0
        assert y[0] == pytest.approx(math.exp(fit["intercept"] + fit["slope"] * math.log(T0)), rel=1e-9)
        assert np.polyfit(np.log(x), np.log(y), 1)[0] == pytest.approx(p, abs=1e-9)
        label = ref[f"reference:{name}"].get_label()
        assert "T^{" in label and ("-2/3" if p < -0.6 else "-1/2") in label and name in label
        assert f"fit:{name}" in _lines(fig, "fit:") and f"top:{name}" in _lines(fig, "top:")


def test_separation_figure_anchors_each_reference_on_its_own_curve(report):
    r = report["vr_separation"]
    fig = claim_figure(r)
    ref = _lines(fig, "reference:")
    assert set(ref) == {"reference:Byz-VR-DM21", "reference:Byz-DM21"}
    for c in r.data["curves"]:
        name = "Byz-VR-DM21" if c["algorithm"] == "byz_vr_dm21" else "Byz-DM21"
        x, y = (np.asarray(v, dtype=float) for v in ref[f"reference:{name}"].get_data())
        assert y[0] == pytest.approx(math.exp(c["intercept"] + c["slope"] * math.log(x[0])), rel=1e-9)
        assert np.polyfit(np.log(x), np.log(y), 1)[0] == pytest.approx(c["predicted"], abs=1e-9)
    # the two curves are far apart: anchoring both on one curve would miss the other's fit point
    a, b = (np.asarray(ref[k].get_data()[1])[0] for k in sorted(ref))
    assert abs(math.log(a / b)) > 0.1


def test_neighborhood_figure_draws_every_scan_with_its_fit(report):
    for cid in ("byz_dm21.neighborhood", "neg.mean_alie_neighborhood"):
        r = report[cid]
        fig = claim_figure(r)
        scans = {s["name"]: s for s in r.data["scans"]}
        assert set(scans) == {"zeta", "delta", "attack"}
        fits = _lines(fig, "fit:")
        assert set(fits) == {"fit:zeta", "fit:delta", "fit:attack"}
        assert len([ax for ax in fig.axes if ax.get_lines()]) == 3
        for name, s in scans.items():
            ln = fits[f"fit:{name}"]
            x, y = (np.asarray(v, dtype=float) for v in ln.get_data())
            assert x[0] == pytest.approx(min(s["x"])) and x[-1] == pytest.approx(max(s["x"]))
            assert np.log(y) == pytest.approx(s["intercept"] + s["slope"] * np.log(x), rel=1e-9)
            assert "slope" in ln.get_label() and ln.axes.get_xscale() == ln.axes.get_yscale() == "log"
            assert any(t.startswith("fit: slope") for t in _legend_texts(ln.axes))
        zeta_ax = fits["fit:zeta"].axes
        assert "c_line" in {ln.get_gid() for ln in zeta_ax.get_lines()}


def test_pl_figure_has_every_gamma_and_every_sigma2_floor(report):
    r = report["byz_dm21.pl_linear_rate"]
    fig = claim_figure(r)
    gammas = _lines(fig, "gamma:")
    assert set(gammas) == {f"gamma:{g:g}" for g in (0.05, 0.1, 0.2)}
    assert set(_lines(fig, "sigma2:")) == {f"sigma2:{s:g}" for s in (1e-4, 1e-3, 1e-2)}
    floors = _lines(fig, "floor:")
    assert len(floors) == 3
    for c in r.data["sigma2_curves"]:
        assert floors[f"floor:{c['sigma2']:g}"].get_ydata()[0] == pytest.approx(c["floor"])
    assert all(ln.axes.get_yscale() == "log" for ln in gammas.values())


def test_batch_one_figure_has_every_sigma2_the_claim_uses(report):
    r = report["batch_one"]
    fig = claim_figure(r)
    curves = set(_lines(fig, "curve:"))
    assert {"curve:Byz-EF21-SGD, b = 1, σ² = 4", "curve:Byz-EF21-SGD, b = 1, σ² = 1",
            "curve:Byz-DM21, b = 1, σ² = 4"} == curves
    assert list(_lines(fig, "reference:")) == ["reference:Byz-DM21, b = 1, σ² = 4"]


def test_every_claim_has_a_figure_even_without_data():
    bare = ClaimResult("odd/claim", "rate", "a rate whose runs diverged", "s", "", Verdict("FAIL", "crit",
                       reason="3 run(s) diverged"))
    fig = claim_figure(bare)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("3 run(s) diverged" in t for t in texts)


def test_labels_use_display_names_and_math_axes(report):
    fig = claim_figure(report["neighborhood_comparison"])
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["vs Byz-EF21-SGDM", "vs Byz-VR-MARINA"]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][:2] == ["base", "σ²-dominated"]
    fig = claim_figure(report["byz_dm21.rate"])
    ax = fig.axes[0]
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert "nabla f" in ax.get_ylabel() and "$T$" in ax.get_xlabel()
    assert not any("byz_" in t for t in _legend_texts(ax))


# ------------------------------------------------------------------------------------------ report.md


def _summary_rows(md: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in md.splitlines()
            if line.startswith("| `")]


def _glossary(md: str) -> set[str]:
    head = md.split("## Glossary", 1)[1].split("\n## ", 1)[0]
    terms = set()
    for m in re.finditer(r"^- \*\*(.+?)\*\*:", head, flags=re.M):
        terms |= {t.strip() for t in m.group(1).split(" / ")}
    return terms


def test_glossary_defines_every_term_of_the_measured_column(report, written):
    md = (written / "report.md").read_text()
    assert md.index("## Glossary") < md.index("## Summary")
    defined = _glossary(md)
    assert {"slope", "CI", "top", "ε-exponent", "c", "c_sup", "ζ²", "δ", "z", "floor ratio", "rate/(γμ)",
            "plateau", "κ", "INFO"} <= defined
    used = set()
    for row in _summary_rows(md):
        for item in row[2].split("; "):
            if " = " not in item:
                continue
            term = re.sub(r" \([^()]*\)$", "", item.split(" = ", 1)[0])
            used.add(term)
            assert term in defined, (row[0], term)
        for sym in ("ζ²", "δ", "σ²", "γ", "z"):  # symbols inside qualifiers are defined too
            if f"({sym})" in row[2] or f" {sym})" in row[2]:
                assert sym in defined
    assert {"slope", "top", "ε-exponent", "Δslope", "c", "c_sup", "Δplateau", "floor ratio", "rate/(γμ)",
            "κ", "α", "ω"} <= used
    assert len(GLOSSARY) == len(set(GLOSSARY))


def test_informational_claims_show_info_but_keep_their_machine_verdict(report, written):
    md = (written / "report.md").read_text()
    rows = {r[0].strip("`"): r for r in _summary_rows(md)}
    data = json.loads((written / "report.json").read_text())
    claims = {c["id"]: c for c in data["claims"]}
    for r in report.results:
        if r.informational:
            shown = "INFO" if r.verdict.verdict == PASS else f"INFO ({r.verdict.verdict})"
            assert rows[r.id][1] == f"**{shown}**" and claims[r.id]["display"] == shown
            assert claims[r.id]["verdict"] == r.verdict.verdict and claims[r.id]["as_required"] is True
        else:
            assert rows[r.id][1] == f"**{r.verdict.verdict}**"
            assert claims[r.id]["display"] == r.verdict.verdict
    assert {c["id"] for c in data["claims"] if c["informational"]} == {
        "byz_vr_dm21.rate_single_eta", "aggregators.kappa", "exact.stability",
        "exact.byz_vr_dm21.rate_one_sample_init", "exact.byz_vr_dm21.rate_single_eta"}
    table = report.table()
    assert report["aggregators.kappa"].verdict.verdict == PASS
    assert re.search(r"^aggregators\.kappa\s+INFO\s", table, flags=re.M)
    # an informational claim whose rule fails still says so
    r = ClaimResult("i", "rate", "t", "s", "", Verdict("FAIL", "crit"), informational=True)
    assert r.display == "INFO (FAIL)" and r.ok


def _long_numbers(text: str) -> list[str]:
    """Decimal numbers with more than 5 significant digits (integers such as horizons are exact, so
    they are not counted; nor is the paper's arXiv identifier)."""
    text = re.sub(r"arXiv:\d+\.\d+", "", text)
    out = []
    for m in re.finditer(r"\d+\.\d+(?:[eE][+-]?\d+)?", text):
        digits = re.split(r"[eE]", m.group(0))[0].replace(".", "").lstrip("0")
        if len(digits) > 5:
            out.append(m.group(0))
    return out


def test_report_md_numbers_are_rounded_for_reading(report, written):
    md = (written / "report.md").read_text()
    assert not _long_numbers(md), _long_numbers(md)[:10]
    assert "1.234567" not in md and "0.03333333" not in md
    assert "1.2 s" in md
    assert not _long_numbers(report.table())
    assert _long_numbers("slope 0.123456 and 12.5") == ["0.123456"]  # the check itself can fail
    # the old report dumped the measured dict as JSON with 16 digits
    assert str(report["byz_dm21.rate"].verdict.measured["slope"]) not in md


def test_each_claim_section_has_statement_regime_criterion_verdict_and_no_repeated_text(report, written):
    md = (written / "report.md").read_text()
    sections = md.split("\n### ")[1:]
    assert len(sections) == len(report.results)
    for sec, r in zip(sections, report.results, strict=True):
        assert sec.startswith(f"`{r.id}` — {r.display}")
        assert "- **criterion**:" in sec and "- **verdict:" in sec and f"({figure_name(r.id)})" in sec
        if r.statement:
            assert "- **statement**:" in sec
        if r.kind in ("rate", "neighborhood", "comparison", "neighborhood_map", "batch_one", "pl"):
            assert "- **regime**: n = " in sec
        for line in sec.splitlines():  # no phrase repeated within one line ("X; X")
            parts = [p.strip() for p in re.split(r"[;→]", line) if p.strip()]
            assert len(parts) == len(set(parts)), line
    rate = sections[0]
    assert rate.count("CI inside the accepted band") == 2  # one per part (whole grid, top), not repeated


def test_report_json_keeps_machine_fields_at_full_precision(written, report):
    data = json.loads((written / "report.json").read_text())
    assert data["ok"] == report.ok and data["wall_time_s"] == 1.234567
    for c, r in zip(data["claims"], report.results, strict=True):
        assert c["verdict"] == r.verdict.verdict and c["as_required"] == r.ok
        assert c["decision"]["verdict"] == r.verdict.verdict
    r = report["byz_dm21.rate"]
    c = next(c for c in data["claims"] if c["id"] == "byz_dm21.rate")
    assert c["data"]["slope"] == r.data["slope"]  # not rounded
    assert c["data"]["values"] == r.data["values"]
    assert c["decision"]["measured"]["slope"] == r.verdict.measured["slope"]
    assert len(repr(c["data"]["slope"])) > 8


def test_fake_report_round_trip_of_data_values(tmp_path):
    x = 0.12345678901234567
    r = ClaimResult("c", "bound", "t", "s", "stmt", Verdict(PASS, "value ≤ bound", {"avg_grad_sq": x},
                    {"bound": 1.0}, None, "ok"), data={"empirical": x, "bound": 1.0})
    rep = Report(Scale("quick", (1, 2), (0,)), [r], 0.5, 1)
    rep.write(tmp_path)
    d = json.loads((tmp_path / "report.json").read_text())["claims"][0]
    assert d["data"]["empirical"] == x and d["verdict"] == PASS and d["display"] == PASS
    md = (tmp_path / "report.md").read_text()
    assert "empirical (avg_grad_sq) = 0.1235" in md and "0.123456" not in md
    assert (tmp_path / "c.png").exists()


def test_figures_drawn_by_two_processes_are_the_files_one_process_draws(report, tmp_path):
    from theory.figures import make_figures

    few = Report(report.scale, report.results[:3], 1.0, 0, {"byzref": "x"})
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one, _ = make_figures(few, tmp_path / "one", workers=1)
    two, _ = make_figures(few, tmp_path / "two", workers=2)
    names = [figure_name(r.id) for r in few.results]
    assert [p.split("/")[-1] for p in one] == names and [p.split("/")[-1] for p in two] == names
    for a, b in zip(one, two, strict=True):
        with open(a, "rb") as fa, open(b, "rb") as fb:
            data = fa.read()
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and data == fb.read()
