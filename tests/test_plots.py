"""Figure functions of plots/: checked by content (artists, scales, legend texts, slopes), not by files."""

import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.figure import Figure

import plots
from byzref.results import Result
from plots.style import FALLBACK, METHOD_STYLES, style_for, styles_for

M = "\u2212"  # the minus sign the legends must use


def new_ax():
    return Figure().add_subplot()


def legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def line(ax, label):
    (found,) = [ln for ln in ax.get_lines() if ln.get_label() == label]
    return found


def loglog_slope(ln):
    x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
    return np.polyfit(np.log(x), np.log(y), 1)[0]


# --- style ---------------------------------------------------------------------------------------------
def test_methods_have_distinct_colours_and_labels_find_their_method():
    colours = [s["color"] for s in METHOD_STYLES.values()]
    assert len(set(colours)) == len(colours)
    assert style_for("byz_dm21")["color"] == "#d62728"
    st = style_for("byz_dm21/top_k (nnm+cwtm, alie)")
    assert (st["color"], st["marker"], st["linestyle"]) == ("#d62728", "o", "--")
    # a longer name must not be taken for its prefix
    assert style_for("byz_ef21_sgdm")["color"] == METHOD_STYLES["byz_ef21_sgdm"]["color"]
    assert style_for("byz_ef21_sgdm")["color"] != METHOD_STYLES["byz_ef21"]["color"]
    assert style_for("byz_vr_dm21")["color"] != style_for("byz_dm21")["color"]
    assert style_for("BR_DIANA rand_k")["linestyle"] == ":"


def test_unknown_labels_use_the_fallback_cycle_stably_and_distinctly():
    a = style_for("my method")
    assert a == style_for("my method")
    assert {"color": a["color"], "marker": a["marker"]} in FALLBACK
    assert style_for("x", index=3)["color"] == FALLBACK[3]["color"]
    labels = [f"method {i}" for i in range(len(FALLBACK))] + ["byz_dm21", "method 0"]
    sts = styles_for(labels)
    assert len({s["color"] for s in sts[: len(FALLBACK)]}) == len(FALLBACK)
    assert sts[-2]["color"] == "#d62728" and sts[-1] == sts[0]


# --- rates ---------------------------------------------------------------------------------------------
T = [64, 256, 1024, 4096]


def test_rate_plot_content():
    rng = np.random.default_rng(0)
    a_vals = [list(3.0 * t**-0.5 * np.exp(0.05 * rng.standard_normal(4))) for t in T]
    a_vals[0] = [1.0, 2.0, 3.0, 10.0]  # median 2.5 by hand: the reference anchor
    b_vals = [[5.0 * t ** (-2 / 3)] * 3 for t in T]
    fits = [{"label": "byz_dm21", "T": T, "values": a_vals, "slope": -0.4912, "ci": (-0.5234, -0.4567),
             "predicted": -0.5},
            {"label": "byz_vr_dm21", "T": T, "values": b_vals, "slope": -2 / 3, "ci": (-0.7, -0.61),
             "predicted": -2 / 3}]
    ax = new_ax()
    assert plots.plot_rates(ax, fits) is ax
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert ax.get_xlabel() == "horizon T" and ax.get_ylabel() == "(1/T) Σ ‖∇f(xᵗ)‖²"
    texts = legend_texts(ax)
    assert f"byz_dm21: fit {M}0.49 [{M}0.52, {M}0.46]" in texts
    assert f"byz_vr_dm21: fit {M}0.67 [{M}0.70, {M}0.61]" in texts
    assert "T^-1/2 reference" in texts and "T^-2/3 reference" in texts
    # 2 fits × (median line + fitted line) + 2 reference lines; one scatter of seeds per fit
    assert len(ax.get_lines()) == 6
    scat = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert [len(c.get_offsets()) for c in scat] == [16, 12]
    for lab, expo in (("T^-1/2 reference", -0.5), ("T^-2/3 reference", -2 / 3)):
        ref = line(ax, lab)
        assert ref.get_linestyle() == "--"
        assert loglog_slope(ref) == pytest.approx(expo, abs=1e-9)
        # anchored at the first median point (T = 64, median 2.5)
        y_at = np.exp(np.interp(np.log(64), np.log(ref.get_xdata()), np.log(ref.get_ydata())))
        assert y_at == pytest.approx(2.5)
        assert min(ref.get_xdata()) == 64 and max(ref.get_xdata()) == 4096
    med = line(ax, f"byz_vr_dm21: fit {M}0.67 [{M}0.70, {M}0.61]")
    np.testing.assert_allclose(med.get_ydata(), [5.0 * t ** (-2 / 3) for t in T])
    assert line(ax, f"byz_dm21: fit {M}0.49 [{M}0.52, {M}0.46]").get_ydata()[0] == 2.5
    fitted = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-."]
    assert len(fitted) == 2
    assert sorted(loglog_slope(ln) for ln in fitted) == pytest.approx([-2 / 3, -0.4912])
    # exact power-law medians: the fitted line passes through them
    b_fit = max(fitted, key=lambda ln: -loglog_slope(ln))
    np.testing.assert_allclose(np.interp(T, b_fit.get_xdata(), b_fit.get_ydata()),
                               [5.0 * t ** (-2 / 3) for t in T], rtol=2e-2)


def test_rate_plot_intercept_missing_slope_and_bad_input():
    ax = new_ax()
    fits = [{"label": "a", "T": [10, 100], "values": [[1.0], [0.1]], "slope": -1.0, "ci": None,
             "predicted": None, "intercept": np.log(7.0)},
            {"label": "b", "T": [10, 100], "values": [[2.0, np.nan], [0.5]], "slope": None, "ci": None,
             "predicted": None},
            {"label": "c", "T": [10, 100], "values": [[2.0], [0.5]], "slope": np.nan, "ci": [np.nan, 1.0],
             "predicted": None},
            {"label": "d", "T": [10, 100], "values": [[2.0], [0.5]], "slope": 0.004, "ci": [-0.5, 0.5]}]
    plots.plot_rates(ax, fits)
    assert legend_texts(ax)[:4] == [f"a: fit {M}1.00", "b", "c", f"d: fit 0.00 [{M}0.50, 0.50]"]
    fitted = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-."]
    assert len(fitted) == 2  # none for the fits without a (finite) slope
    assert fitted[0].get_ydata()[0] == pytest.approx(7.0 / 10)
    assert line(ax, "b").get_ydata()[0] == 2.0  # NaN seeds are ignored
    with pytest.raises(ValueError, match="'values' has 1 entries but 'T' has 2"):
        plots.plot_rates(new_ax(), [{"label": "c", "T": [1, 2], "values": [[1.0]]}])
    with pytest.raises(ValueError, match="lacks key"):
        plots.plot_rates(new_ax(), [{"label": "c", "T": [1, 2]}])


# --- neighborhood and PL ---------------------------------------------------------------------------------
def test_neighborhood_plot_content():
    ax = new_ax()
    series = [{"label": "byz_dm21", "x": [0.1, 0.2, 0.4], "plateau": [0.12, 0.25, 0.47], "c": 1.234},
              {"label": "byz_ef21_sgdm", "x": [0.1, 0.4], "plateau": [0.3, 1.1], "c": None}]
    assert plots.plot_neighborhood(ax, series) is ax
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    assert legend_texts(ax) == ["byz_dm21: c = 1.23", "byz_ef21_sgdm"]
    assert len(ax.get_lines()) == 3  # two point sets, one fitted line
    pts = line(ax, "byz_dm21: c = 1.23")
    assert pts.get_linestyle() == "None" and list(pts.get_ydata()) == [0.12, 0.25, 0.47]
    (fit,) = [ln for ln in ax.get_lines() if ln.get_label() == "_nolegend_"]
    np.testing.assert_allclose(np.asarray(fit.get_ydata()) / np.asarray(fit.get_xdata()), 1.234)
    assert (min(fit.get_xdata()), max(fit.get_xdata())) == pytest.approx((0.1, 0.4))
    ax = plots.plot_neighborhood(new_ax(), [{"label": "a", "x": [0.0, 0.5], "plateau": [0.01, 0.6], "c": 1}])
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "linear")


def test_pl_plot_content():
    t = np.arange(0, 100, 10)
    gap = 0.9 ** t
    gap[-1] = -1e-17  # rounding below f*: not drawn
    ax = new_ax()
    plots.plot_pl(ax, [{"label": "byz_dm21", "t": t, "gap": gap, "rate": 0.98712},
                       {"label": "br_diana", "t": t, "gap": 2 * 0.95 ** t, "rate": None},
                       {"label": "br_csgd", "t": t, "gap": 2 * 0.95 ** t, "rate": float("nan")}])
    assert (ax.get_xscale(), ax.get_yscale()) == ("linear", "log")
    assert legend_texts(ax) == ["byz_dm21 (ρ = 0.987)", "br_diana", "br_csgd"]
    y = np.asarray(line(ax, "byz_dm21 (ρ = 0.987)").get_ydata())
    assert np.isnan(y[-1]) and np.allclose(y[:-1], 0.9 ** t[:-1])
    assert ax.get_ylabel() == "f(xᵗ) − f*"


# --- curves --------------------------------------------------------------------------------------------
def run(label, it, vals, status="ok", bits=None):
    it = np.asarray(it)
    curves = {"iteration": it, "grad_sq": np.asarray(vals, float),
              "bits_up": it * 8.0 if bits is None else np.asarray(bits, float)}
    return {"label": label, "curves": curves, "status": status}


def test_curves_few_seeds_median_and_per_seed_lines():
    it = [0, 10, 20]
    runs = [run("a", it, [k, k / 2, k / 4]) for k in (1.0, 4.0, 2.0)] + [run("b", it, [1.0, 1.0, 1.0])]
    ax = new_ax()
    assert plots.plot_curves(ax, runs) is ax
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "iteration t"
    assert legend_texts(ax) == ["a (3 seeds)", "b (1 seed)"]
    assert len(ax.get_lines()) == 2 + 4  # medians + thin per-seed lines
    assert not [c for c in ax.collections if isinstance(c, PolyCollection)]
    np.testing.assert_allclose(line(ax, "a (3 seeds)").get_ydata(), [2.0, 1.0, 0.5])
    ax = plots.plot_curves(new_ax(), runs, x="bits_up")
    assert ax.get_xlabel() == "bits sent per worker"
    assert list(line(ax, "a (3 seeds)").get_xdata()) == [0, 80, 160]


def test_curves_band_from_quantiles():
    it = np.arange(5)
    runs = [run("byz_dm21", it, k * 2.0 ** -it) for k in range(1, 7)]
    ax = plots.plot_curves(new_ax(), runs, band=(0.25, 0.75))
    assert len(ax.get_lines()) == 1
    (poly,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    np.testing.assert_allclose(line(ax, "byz_dm21 (6 seeds)").get_ydata(), 3.5 * 2.0 ** -it)
    ys = poly.get_paths()[0].vertices[:, 1]
    # quantiles of 1..6 by hand (linear interpolation): 0.25 → 2.25, 0.75 → 4.75
    assert ys.max() == pytest.approx(4.75) and ys.min() == pytest.approx(2.25 / 16)
    assert not [c for c in plots.plot_curves(new_ax(), runs, band=None).collections
                if isinstance(c, PolyCollection)]


def test_curves_diverged_runs_count_as_worst_and_grids_are_merged():
    ok1 = run("a", [0, 10, 20, 30], [1.0, 1.0, 1.0, 1.0])
    ok2 = run("a", [0, 10, 20, 30], [2.0, 2.0, 2.0, 2.0])
    bad = run("a", [0, 10, 13], [3.0, 3.0, np.inf], status="diverged")
    ax = plots.plot_curves(new_ax(), [ok1, ok2, bad])
    med = line(ax, "a (3 seeds)")
    assert list(med.get_xdata()) == [0, 10, 13, 20, 30]
    np.testing.assert_allclose(med.get_ydata(), [2.0, 2.0, 2.0, 2.0, 2.0])
    ax = plots.plot_curves(new_ax(), [ok1, bad])  # median of {1, +inf} is not finite: not drawn
    np.testing.assert_allclose(line(ax, "a (2 seeds)").get_ydata(), [2.0, 2.0, np.nan, np.nan, np.nan])
    shifted = run("a", [0, 5, 30], [4.0, 3.0, 0.5])
    # interpolated onto the union grid: shifted reads 3 − 2.5·(x − 5)/25 between x = 5 and 30
    ax = plots.plot_curves(new_ax(), [ok1, shifted])
    np.testing.assert_allclose(line(ax, "a (2 seeds)").get_ydata(), [2.5, 2.0, 1.75, 1.25, 0.75])


@settings(max_examples=30)
@given(st.integers(1, 8), st.integers(1, 6), st.integers(0, 2**32 - 1))
def test_curves_median_and_band_on_a_shared_grid_match_numpy(n_runs, m, seed):
    rng = np.random.default_rng(seed)
    it = np.sort(rng.choice(1000, size=m, replace=False))
    Y = np.exp(rng.standard_normal((n_runs, m)))
    ax = plots.plot_curves(new_ax(), [run("a", it, y) for y in Y], band=(0.1, 0.9))
    med = line(ax, f"a ({n_runs} seed{'s' if n_runs > 1 else ''})")
    np.testing.assert_array_equal(med.get_xdata(), it)
    np.testing.assert_allclose(med.get_ydata(), np.median(Y, axis=0), rtol=1e-12)
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(polys) == (1 if n_runs >= 5 else 0)
    assert len(ax.get_lines()) == 1 + (n_runs if n_runs < 5 else 0)
    if polys:
        ys = polys[0].get_paths()[0].vertices[:, 1]
        sorted_y = np.sort(Y, axis=0)  # 0.1 / 0.9 quantiles by hand: linear between order statistics
        pos_lo, pos_hi = 0.1 * (n_runs - 1), 0.9 * (n_runs - 1)
        k_lo, k_hi = int(pos_lo), int(pos_hi)
        q_lo = sorted_y[k_lo] + (pos_lo - k_lo) * (sorted_y[min(k_lo + 1, n_runs - 1)] - sorted_y[k_lo])
        q_hi = sorted_y[k_hi] + (pos_hi - k_hi) * (sorted_y[min(k_hi + 1, n_runs - 1)] - sorted_y[k_hi])
        assert ys.min() == pytest.approx(q_lo.min()) and ys.max() == pytest.approx(q_hi.max())


def test_curves_accept_results_and_validate():
    def result(name, seed, vals):
        cfg = {"algorithm": {"name": "byz_vr_dm21"}, "seed": seed, **({"name": name} if name else {})}
        curves = {"iteration": np.array([0, 1]), "f_gap": np.asarray(vals, float),
                  "grad_sq": np.array([np.nan, np.nan])}
        return Result(config=cfg, run_id=str(seed), status="ok", diverged_at=None, curves=curves, summary={})

    ax = plots.plot_curves(new_ax(), [result(None, 0, [1, 0.5]), result("tuned", 1, [2, 1])], y="f_gap")
    assert legend_texts(ax) == ["byz_vr_dm21 (1 seed)", "tuned (1 seed)"]
    assert ax.get_ylabel() == "f(xᵗ) − f*"
    with pytest.raises(ValueError, match="NaN for every run"):
        plots.plot_curves(new_ax(), [result(None, 0, [1, 0.5])], y="grad_sq")
    with pytest.raises(ValueError, match="no curve 'grad_sq_avg'"):
        plots.plot_curves(new_ax(), [result(None, 0, [1, 0.5])], y="grad_sq_avg")
    with pytest.raises(ValueError, match="x must be one of"):
        plots.plot_curves(new_ax(), [], x="rounds")
    with pytest.raises(ValueError, match="band must be"):
        plots.plot_curves(new_ax(), [], band=(0.8, 0.2))


# --- saving and hygiene ----------------------------------------------------------------------------------
def test_save_writes_png_and_pdf(tmp_path):
    fig = Figure()
    plots.plot_pl(fig.add_subplot(), [{"label": "a", "t": [0, 1, 2], "gap": [1.0, 0.5, 0.25], "rate": 0.5}])
    png = plots.save(fig, tmp_path / "sub" / "fig.png")
    pdf = plots.save(fig, tmp_path / "fig.PDF")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 1000
    with pytest.raises(ValueError, match=r"suffix must be one of \.pdf, \.png, \.svg"):
        plots.save(fig, tmp_path / "fig.txt")


def test_library_code_holds_no_pyplot_state():
    for path in Path(plots.__file__).parent.glob("*.py"):
        assert not re.search(r"import[^\n]*pyplot|\bplt\.", path.read_text()), path.name


def test_style_reads_paper_spellings_of_method_names():
    from plots.style import style_for

    assert style_for("Byz-VR-DM21") == style_for("byz_vr_dm21")
    assert style_for("Byz-DM21")["color"] == style_for("byz_dm21")["color"]
    assert style_for("Byz-VR-DM21")["color"] != style_for("Byz-DM21")["color"]
    assert style_for("Byz-EF21-SGDM")["color"] == style_for("byz_ef21_sgdm")["color"]
