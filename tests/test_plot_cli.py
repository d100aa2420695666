"""`byzref plot` and plots.grid: figure CONTENT (axes, lines, scales, legend entries, titles, slopes)."""

import math
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from byzref.cli import main
from byzref.config import NUMERICS, normalize, run_id
from byzref.results import Result
from byzref.store import ResultStore
from plots.cli import build_figure
from plots.grid import plot_grid

M = "\u2212"
ITER = np.array([0.0, 10.0, 20.0, 50.0, 100.0])


_REQUIRED = {"byz_dm21": {"eta": 0.1}, "byz_vr_dm21": {"eta": 0.1}, "byz_ef21_sgdm": {"eta": 0.1},
             "byz_vr_marina": {"p": 0.2}, "byz_dasha_page": {"p": 0.2}}  # parameters without a default


def result(alg="byz_dm21", comp="top_k", agg="nnm+cwtm", att="alie", gamma=0.5, seed=0, T=100, level=1.0,
           avg=None, status="ok", numerics=None):
    """A hand-made run whose curve is level·(1, 1/2, 1/3, 1/6, 1/11) and whose avg_grad_sq is ``avg``."""
    cfg = normalize({"seed": seed, "n": 20, "f": 8, "T": T, "problem": {"name": "logreg_nonconvex"},
                     "algorithm": {"name": alg, "gamma": gamma, **_REQUIRED.get(alg, {})},
                     "compressor": {"name": comp, "k": 1},
                     "aggregator": agg, "attack": att})
    g = level / (1.0 + ITER / 10.0)
    curves = {"iteration": ITER, "bits_up": 40.0 * ITER, "grad_sq": g,
              "grad_sq_avg": np.cumsum(g) / np.arange(1, 6), "f_gap": g / 2}
    summary = {"avg_grad_sq": level if avg is None else avg, "final_grad_sq": float(g[-1])}
    rid = run_id(cfg) if numerics is None else f"{run_id(cfg)}v{numerics}"
    return Result(cfg, rid, status, 50 if status == "diverged" else None, curves, summary,
                  versions={"numerics": str(NUMERICS if numerics is None else numerics)})


def store_of(tmp_path, results):
    st = ResultStore(tmp_path / "store")
    for r in results:
        assert st.append(r)
    return tmp_path / "store"


METHODS = [("byz_dm21", "top_k"), ("byz_ef21", "top_k"), ("byz_vr_marina", "rand_k")]
AGGS, ATTS = ["nnm+cwtm", "nnm+gm"], ["alie", "sign_flip", "ipm"]


def grid_runs():
    """3 methods × 2 aggregators × 3 attacks × γ ∈ {0.5, 0.05} × 2 seeds; γ = 0.05 wins only for
    Byz-EF21 under ipm (level 1 against 2), γ = 0.5 everywhere else."""
    out = []
    for (alg, comp) in METHODS:
        for agg in AGGS:
            for att in ATTS:
                for gamma in (0.5, 0.05):
                    good = (gamma == 0.05) == (alg == "byz_ef21" and att == "ipm")
                    out += [result(alg, comp, agg, att, gamma, s, level=1.0 if good else 2.0) for s in (0, 1)]
    return out


def named_lines(ax):
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def test_grid_has_one_panel_per_aggregator_and_attack_and_one_line_per_method(tmp_path):
    d = store_of(tmp_path, grid_runs())
    fig, text = build_figure(d, "grid")
    axes = fig.axes
    assert len(axes) == len(AGGS) * len(ATTS)
    # paper order: rows gm before cwtm, columns sign_flip, ipm, alie (plots.cli.ROW_ORDER / COL_ORDER)
    titles = [ax.get_title() for ax in axes]  # display names (plots.labels), not the internal ones
    assert titles == [f"{a} · {b}" for a in ("NNM + GM", "NNM + CWTM") for b in ("SF", "IPM", "ALIE")]
    labels = {"Byz-DM21, Top-k (k=1)", "Byz-EF21, Top-k (k=1)", "Byz-VR-MARINA, Rand-k (k=1)"}
    for ax in axes:
        assert ax.get_yscale() == "log"
        # each panel's own legend gives the chosen γ of each line (in the line's colour)
        assert set(t.get_text() for t in ax.get_legend().get_texts()) <= {"γ = 0.5", "γ = 0.05"}
        lines = named_lines(ax)
        assert len(lines) == 3
        assert {ln.get_label() for ln in lines} == labels
        for ln in lines:  # the chosen γ's curve: level 1 (2 seeds with equal curves → median = it)
            np.testing.assert_allclose(np.asarray(ln.get_ydata(), float), 1.0 / (1.0 + ITER / 10.0))
    (legend,) = fig.legends
    assert sorted(t.get_text() for t in legend.get_texts() if t.get_text()) == sorted(labels | {"method"})
    assert axes[0].get_ylabel() == "‖∇f(xᵗ)‖²" and axes[1].get_ylabel() == ""
    assert axes[-1].get_xlabel() == "iteration t" and axes[0].get_xlabel() == ""
    assert "2 aggregators × 3 attacks = 6 panels, 3 methods; 36 of 72 runs drawn" in text[0]
    # the chosen step sizes, printed per aggregator: Byz-EF21 takes 0.05 under ipm only
    ef21 = [ln for ln in text if ln.strip().startswith("Byz-EF21")]
    assert len(ef21) == 2 and all(ln.split()[-3:] == ["0.5", "0.05", "0.5"] for ln in ef21)


def test_grid_by_bits_and_diverged_runs_rank_worst(tmp_path):
    runs = [result(gamma=0.5, seed=s, level=1e-6, status="diverged") for s in (0, 1)]
    runs += [result(gamma=0.05, seed=s, level=3.0) for s in (0, 1)]
    fig, text = build_figure(store_of(tmp_path, runs), "grid", x="bits_up", y="grad_sq_avg")
    (ax,) = fig.axes
    (ln,) = named_lines(ax)
    assert ax.get_xlabel() == "bits sent per worker"
    np.testing.assert_allclose(np.asarray(ln.get_xdata(), float), 40.0 * ITER)
    assert np.asarray(ln.get_ydata(), float)[0] == pytest.approx(3.0)  # γ = 0.05, not the diverged
    assert text[-2].split()[-1] == "0.05"  # the last table row; then what was read:
    assert text[-1] == f"store {tmp_path / 'store'}: 4 runs read (2 diverged, 2 ok)"


def test_curves_one_line_per_method_and_setting(tmp_path):
    runs = [result(alg, comp, gamma=g, seed=s)
            for alg, comp in METHODS[:2] for g in (0.5, 0.05) for s in range(3)]
    fig, text = build_figure(store_of(tmp_path, runs), "curves", y="f_gap")
    # the step size, the one field besides the method that varies, gets a column of panels each
    assert [ax.get_title() for ax in fig.axes] == ["γ = 0.05", "γ = 0.5"]
    for ax in fig.axes:
        assert [ln.get_label() for ln in named_lines(ax)] == ["Byz-DM21, Top-k (k=1)",
                                                              "Byz-EF21, Top-k (k=1)"]
        assert ax.get_yscale() == "log"
    assert fig.axes[0].get_ylabel() == "f(xᵗ) − f*" and fig.axes[1].get_ylabel() == ""
    assert text[0] == ("curves: 2 panels (1 × 2), 4 lines from 12 runs (median over 3 seeds, "
                       "band min–max over seeds)")


def test_rates_fit_label_matches_an_independent_least_squares_slope(tmp_path):
    rng = np.random.default_rng(1)
    Ts, runs, logs = [100, 200, 400, 800], [], {}
    for alg, expo in (("byz_dm21", -0.5), ("byz_vr_dm21", -2.0 / 3.0)):
        for T in Ts:
            for s in range(4):
                v = 3.0 * T**expo * math.exp(0.05 * rng.standard_normal())
                logs.setdefault(alg, {}).setdefault(T, []).append(math.log(v))
                runs.append(result(alg, T=T, seed=s, avg=v, gamma=0.1 / math.sqrt(T)))  # a T-dependent step
        runs.append(result(alg, T=800, seed=9, avg=1e-9, status="diverged", gamma=0.1 / math.sqrt(800)))
    fig, text = build_figure(store_of(tmp_path, runs), "rates")
    (ax,) = fig.axes
    assert (ax.get_xscale(), ax.get_yscale()) == ("log", "log")
    legend = [ln.get_label() for ln in named_lines(ax)]  # the panel legend shows the fit text only
    for alg, name in (("byz_dm21", "Byz-DM21"), ("byz_vr_dm21", "Byz-VR-DM21")):
        ref = np.polyfit(np.log(Ts), [np.mean(logs[alg][T]) for T in Ts], 1)[0]
        (lab,) = [t for t in legend if t.startswith(f"{name}, Top-k (k=1): fit ")]
        m = re.fullmatch(rf"{name}, Top-k \(k=1\): fit ({M}?\d\.\d\d) \[({M}?\d\.\d\d), ({M}?\d\.\d\d)\]",
                         lab)
        slope, lo, hi = (float(g.replace(M, "-")) for g in m.groups())
        assert slope == pytest.approx(ref, abs=0.006) and lo < slope < hi
        panel = [t.get_text() for t in ax.get_legend().get_texts()]
        assert lab.split(": ", 1)[1] in panel
    assert {"T^-1/2 reference", "T^-2/3 reference"} <= set(legend)
    fig_legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert {"$T^{-1/2}$", "$T^{-2/3}$", "Byz-DM21, Top-k (k=1)",
            "Byz-VR-DM21, Top-k (k=1)"} <= set(fig_legend)
    assert text[0].startswith("rates: 1 panel, 2 lines")
    assert sum("1 diverged or non-finite left out" in ln for ln in text) == 2


def test_plot_grid_marks_empty_cells_and_keeps_the_given_order():
    runs = [result(agg="cwmed", att="alie"), result(agg="cwtm", att="ipm")]
    axes = plot_grid(Figure(), runs, row_order=["cwtm"], col_order=["ipm", "alie"])
    assert axes.shape == (2, 2)
    titles = [ax.get_title() for ax in axes.ravel()]
    assert titles == ["cwtm · ipm", "cwtm · alie", "cwmed · ipm", "cwmed · alie"]
    assert [t.get_text() for t in axes[0, 1].texts] == ["no runs"]
    assert all(ax.get_yscale() == "log" for ax in axes.ravel())
    assert axes[0, 0].get_shared_y_axes().joined(axes[0, 0], axes[1, 1])
    own = plot_grid(Figure(), runs, sharey=False)
    assert not own[0, 0].get_shared_y_axes().joined(own[0, 0], own[1, 1])
    with pytest.raises(ValueError, match="x must be one of"):
        plot_grid(Figure(), runs, x="time")


def test_plot_grid_has_one_legend_entry_per_method_whatever_each_cell_s_seed_count():
    runs = [result(agg="cwtm", att="ipm", seed=s) for s in range(2)]
    runs += [result(agg="cwtm", att="alie", seed=s) for s in range(3)]
    fig = Figure()
    plot_grid(fig, runs)
    (legend,) = fig.legends
    (text,) = [t.get_text() for t in legend.get_texts()]  # one method → one entry, with no seed count
    assert text.startswith("Byz-DM21") and "seed" not in text


SWEEP = """
seed = [0, 1]
n = 10
f = 2
T = 40
aggregator = ["nnm+cwtm", "nnm+cwmed"]
[problem]
name = "logreg_nonconvex"
samples_per_worker = 10
[algorithm]
gamma = [0.5, 0.05]
[attack]
name = ["sign_flip", "ipm"]
[record]
log = 10
[[case]]
algorithm = {name = "byz_dm21", eta = 0.1}
compressor = {name = "top_k", k = 2}
[[case]]
algorithm = {name = "byz_vr_marina", p = 0.2}
compressor = {name = "rand_k", k = 2}
"""


def test_sweep_then_plot_end_to_end(tmp_path, capsys):
    (tmp_path / "s.toml").write_text(SWEEP)
    store = str(tmp_path / "store")
    assert main(["sweep", str(tmp_path / "s.toml"), "--out", store, "--workers", "1"]) == 0
    out = tmp_path / "grid.png"
    assert main(["plot", store, "--kind", "grid", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert out.stat().st_size > 10_000 and out.read_bytes()[:4] == b"\x89PNG"
    assert "2 aggregators × 2 attacks = 4 panels, 2 methods; 16 of 32 runs drawn" in text
    fig, _ = build_figure(store, "grid")
    assert len(fig.axes) == 4 and all(len(named_lines(ax)) == 2 for ax in fig.axes)
    assert sorted(t.get_text() for t in fig.legends[0].get_texts() if t.get_text()) == [
        "Byz-DM21, Top-k (k=2)", "Byz-VR-MARINA, Rand-k (k=2)", "method"]
    assert main(["plot", store, "--kind", "curves", "--out", str(tmp_path / "c.pdf")]) == 0
    assert (tmp_path / "c.pdf").read_bytes()[:4] == b"%PDF"


def test_cli_errors_name_the_problem(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "nowhere"), "--kind", "grid", "--out", str(tmp_path / "g.png")]) == 2
    assert "does not exist; expected a results store" in capsys.readouterr().err
    assert not (tmp_path / "nowhere").exists()
    d = store_of(tmp_path, [result()])
    assert main(["plot", str(d), "--kind", "curves", "--out", str(tmp_path / "g.txt")]) == 2
    assert "--out must end in one of .pdf .png .svg .pgf .eps" in capsys.readouterr().err


# --- what plot reads: damaged records, numerics versions, statuses (byzref.store) -------------------------
def test_plot_skips_damaged_records_and_says_what_it_skipped(tmp_path, capsys):
    runs = [result(alg, comp, gamma=0.5, seed=s) for alg, comp in METHODS[:2] for s in range(3)]
    d = store_of(tmp_path, runs)
    (d / "curves" / f"{runs[0].run_id}.npz").unlink()
    npz = d / "curves" / f"{runs[4].run_id}.npz"
    npz.write_bytes(npz.read_bytes()[:100])
    with open(d / "runs.jsonl", "ab") as fh:
        fh.write(b'{"run_id":"0123","con')  # a writer killed mid-line
    fig, text = build_figure(d, "curves")
    assert text[0] == ("curves: 1 panel (1 × 1), 2 lines from 4 runs (median over 2 seeds, "
                       "band min–max over seeds)")
    assert f"store {d}: 4 runs read (4 ok)" in text
    assert ("skipped: 2 damaged (1 missing, 1 wrong size; see `byzref store check`); 1 unparseable line(s)"
            in text)
    assert {ln.get_label() for ln in named_lines(fig.axes[0])} == {"Byz-DM21, Top-k (k=1)",
                                                                 "Byz-EF21, Top-k (k=1)"}
    assert main(["plot", str(d), "--kind", "grid", "--out", str(tmp_path / "g.png")]) == 0
    assert "skipped: 2 damaged" in capsys.readouterr().out


def test_plot_never_pools_numerics_versions_and_says_how_many_it_left_out(tmp_path):
    d = store_of(tmp_path, [result(seed=s) for s in range(2)])
    old = ResultStore(tmp_path / "old")
    for s in range(3):
        old.append(result(seed=s, level=5.0, numerics=1))  # a store of one version may be any version
    fig, text = build_figure(tmp_path / "old", "curves")
    assert f"note: runs of numerics version 1; this byzref computes version {NUMERICS}" in text
    with open(d / "runs.jsonl", "ab") as fh:  # mixed by hand (an append refuses it)
        fh.write((tmp_path / "old" / "runs.jsonl").read_bytes())
    for p in (tmp_path / "old" / "curves").iterdir():
        (d / "curves" / p.name).write_bytes(p.read_bytes())
    assert len(ResultStore(d, readonly=True).records()) == 5
    fig, text = build_figure(d, "curves")
    (ln,) = named_lines(fig.axes[0])
    assert ln.get_label() == "Byz-DM21, Top-k (k=1)"
    assert "median of 2 seeds" in fig.legends[0].get_title().get_text()
    np.testing.assert_allclose(np.asarray(ln.get_ydata(), float), 1.0 / (1.0 + ITER / 10.0))  # level 1 only
    assert f"skipped: 3 run(s) of numerics version 1 (only version {NUMERICS} is drawn)" in text


def test_stalled_runs_are_drawn_and_counted(tmp_path):
    # three horizons: a rate plot refuses fewer (tests/test_plot_facets.py)
    runs = [result(seed=s, status="stalled" if s else "ok", T=T, avg=1.0 / T)
            for T in (100, 400, 1600) for s in range(3)]
    runs.append(result(seed=9, T=400, status="diverged", avg=1e-9))
    fig, text = build_figure(store_of(tmp_path, runs), "rates")
    assert f"store {tmp_path / 'store'}: 10 runs read (6 stalled, 3 ok, 1 diverged)" in text
    (fit,) = [ln for ln in text if ln.startswith("  Byz-DM21")]
    assert "T = 100, 400, 1600; slope -1.000" in fit.replace(M, "-") and "over 3 seeds" in fit
    assert "1 diverged or non-finite left out" in fit
    fig, text = build_figure(tmp_path / "store", "curves")
    assert [ax.get_title() for ax in fig.axes] == ["T = 100", "T = 400", "T = 1600"]
    assert named_lines(fig.axes[0])[0].get_label() == "Byz-DM21, Top-k (k=1)"


def test_plot_out_must_be_a_file_in_an_existing_folder(tmp_path, capsys):
    d = store_of(tmp_path, [result()])
    assert main(["plot", str(d), "--kind", "curves", "--out", str(tmp_path / "nodir" / "f.png")]) == 2
    assert "nodir" in capsys.readouterr().err and not (tmp_path / "nodir").exists()
    (tmp_path / "dir.png").mkdir()
    assert main(["plot", str(d), "--kind", "curves", "--out", str(tmp_path / "dir.png")]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["plot", str(d), "--kind", "curves", "--out", str(tmp_path / "ok.png")]) == 0
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
