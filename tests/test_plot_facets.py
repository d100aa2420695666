"""`byzref plot` faceting, filtering, paper output and refusals: checked on the figures' content and files."""

import json
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.colors import to_hex

from byzref.cli import main
from byzref.store import ResultStore
from byzref.sweep import SerialExecutor, run_sweep
from plots.cli import build
from plots.labels import Labels, load_labels
from tests.test_plot_cli import grid_runs, named_lines, result, store_of

GAMMAS = (0.02, 0.05, 0.1)


def question_configs():
    """Byz-DM21 vs Byz-EF21-SGDM under ALIE with CWTM and top_k, 3 step sizes, 2 seeds (tiny and real)."""
    out = []
    for alg in ("byz_dm21", "byz_ef21_sgdm"):
        for g in GAMMAS:
            for s in (0, 1):
                out.append({"seed": s, "n": 8, "f": 2, "T": 60, "aggregator": "cwtm",
                            "problem": {"name": "nonconvex_synthetic", "d": 5},
                            "algorithm": {"name": alg, "gamma": g, "eta": 0.1},
                            "compressor": {"name": "top_k", "k": 2}, "attack": {"name": "alie"},
                            "record": {"log": 5}})
    return out


@pytest.fixture(scope="module")
def question_store(tmp_path_factory):
    d = tmp_path_factory.mktemp("question") / "store"
    run_sweep(question_configs(), d, executor=SerialExecutor())
    return d


def legend_texts(fig):
    return [t.get_text() for leg in fig.legends for t in leg.get_texts() if t.get_text()]


def pdf_fonts(data: bytes) -> set[str]:
    return set(re.findall(rb"/Subtype\s*/(Type3|Type0|TrueType|Type1|CIDFontType2)", data))


def test_default_curves_answer_the_question_with_no_flag(question_store, tmp_path, capsys):
    out = tmp_path / "q.pdf"
    assert main(["plot", str(question_store), "--kind", "curves", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "algorithm.gamma → col" in printed
    side = json.loads((tmp_path / "q.pdf.json").read_text())
    assert side["facets"] == {"hue": ["method"], "style": [], "col": ["algorithm.gamma"], "row": []}
    assert [p["title"] for p in side["panels"]] == ["γ = 0.02", "γ = 0.05", "γ = 0.1"]
    methods = ["Byz-DM21, Top-k (k=2)", "Byz-EF21-SGDM, Top-k (k=2)"]
    for p in side["panels"]:
        assert [ln["label"] for ln in p["lines"]] == methods
        assert all(ln["n_seeds"] == 2 and sorted(ln["seeds"]) == [0, 1] for ln in p["lines"])
    ids = sorted(i for p in side["panels"] for ln in p["lines"] for i in ln["run_ids"])
    assert ids == sorted(r["run_id"] for r in ResultStore(question_store, readonly=True).records())
    assert "min–max" in side["aggregation"]
    # the figure itself: 3 panels × 2 lines, one colour per method across panels, a short legend
    p = build(question_store, "curves")
    assert len(p.figure.axes) == 3
    colours = [[to_hex(ln.get_color()) for ln in named_lines(ax)] for ax in p.figure.axes]
    assert all(c == colours[0] for c in colours) and len(set(colours[0])) == 2
    texts = legend_texts(p.figure)
    assert sorted(texts) == sorted(["method", *methods])
    shown = texts + [ln.get_label() for ax in p.figure.axes for ln in ax.get_lines()]
    assert not any("n =" in t for t in shown)
    assert "median of 2 seeds" in p.figure.legends[0].get_title().get_text()
    # PDF fonts: TrueType (Type 42), never Type 3; the check itself finds Type 3 when it is there
    data = out.read_bytes()
    assert data[:5] == b"%PDF-"
    fonts = pdf_fonts(data)
    assert b"Type3" not in fonts and fonts & {b"Type0", b"TrueType", b"CIDFontType2"}
    with matplotlib.rc_context({"pdf.fonttype": 3}):
        p.figure.savefig(tmp_path / "t3.pdf")
    assert b"Type3" in pdf_fonts((tmp_path / "t3.pdf").read_bytes())


def test_hue_and_style_legend_is_not_the_cross_product(tmp_path):
    d = store_of(tmp_path, grid_runs())  # 3 methods × 2 aggregators × 3 attacks × 2 γ × 2 seeds
    p = build(d, "curves", hue="method", style="algorithm.gamma", col="attack", row="aggregator")
    axes = np.array(p.figure.axes).reshape(2, 3)
    assert [ax.get_title() for ax in axes.ravel()] == [f"{a} · {b}" for a in ("NNM + GM", "NNM + CWTM")
                                                       for b in ("SF", "IPM", "ALIE")]
    for ax in axes.ravel():
        lines = named_lines(ax)
        assert len(lines) == 6
        assert len({to_hex(ln.get_color()) for ln in lines}) == 3
        assert len({str(ln.get_linestyle()) for ln in lines}) == 2
        by_style = {}
        for ln in lines:
            by_style.setdefault(ln.get_label().rsplit(", ", 1)[1], set()).add(str(ln.get_linestyle()))
        assert set(by_style) == {"γ = 0.05", "γ = 0.5"} and all(len(v) == 1 for v in by_style.values())
    texts = legend_texts(p.figure)
    assert len(texts) == 2 + 3 + 2  # two headings, 3 methods, 2 step sizes (not 6 combinations)
    assert {"method", "γ", "γ = 0.05", "γ = 0.5"} <= set(texts)
    # y shared within a row only (default), across all panels, or not at all
    assert axes[0, 0].get_shared_y_axes().joined(axes[0, 0], axes[0, 2])
    assert not axes[0, 0].get_shared_y_axes().joined(axes[0, 0], axes[1, 0])
    every = np.array(build(d, "curves", sharey="all").figure.axes)
    assert every[0].get_shared_y_axes().joined(every[0], every[-1])
    own = np.array(build(d, "curves", sharey="none").figure.axes)
    assert not own[0].get_shared_y_axes().joined(own[0], own[1])


def test_default_curves_place_every_varying_field(tmp_path):
    d = store_of(tmp_path, grid_runs())
    p = build(d, "curves")
    assert p.sidecar["facets"] == {"hue": ["method"], "style": ["algorithm.gamma"], "col": ["attack"],
                                   "row": ["aggregator"]}
    assert len(p.figure.axes) == 6 and all(len(named_lines(ax)) == 6 for ax in p.figure.axes)
    assert all(ln["n_seeds"] == 2 for panel in p.sidecar["panels"] for ln in panel["lines"])


def test_grid_sidecar_has_the_chosen_step_size_per_panel(tmp_path, capsys):
    d = store_of(tmp_path, grid_runs())
    out = tmp_path / "g.svg"
    assert main(["plot", str(d), "--kind", "grid", "--out", str(out), "--size", "9,5",
                 "--title", "Grid"]) == 0
    assert out.read_text().lstrip().startswith("<?xml") and "<svg" in out.read_text()
    side = json.loads((tmp_path / "g.svg.json").read_text())
    assert side["title"] == "Grid" and side["size_inches"] == [9.0, 5.0]
    assert len(side["panels"]) == 6
    for panel in side["panels"]:
        for ln in panel["lines"]:
            want = 0.05 if (ln["label"].startswith("Byz-EF21") and panel["title"].endswith("IPM")) else 0.5
            assert ln["gamma"] == want and panel["gamma"][ln["label"]] == want
            assert ln["n_seeds"] == 2
    p = build(d, "grid")
    ipm = p.figure.axes[1]  # NNM + GM · IPM
    assert ipm.get_title() == "NNM + GM · IPM"
    assert sorted(t.get_text() for t in ipm.get_legend().get_texts()) == ["γ = 0.05", "γ = 0.5", "γ = 0.5"]
    # a grid shares y by column (one attack: comparable across aggregators), not across attacks
    axes = p.figure.axes
    n_cols = len({pl["col"][0] if pl["col"] else None for pl in side["panels"]})
    grid = np.array(axes[: len(side["panels"])], dtype=object).reshape(-1, n_cols)
    assert n_cols > 1 and grid.shape[0] > 1
    for j in range(n_cols):
        shared = grid[0, j].get_shared_y_axes()
        assert all(shared.joined(grid[0, j], grid[i, j]) for i in range(grid.shape[0]))
    assert not grid[0, 0].get_shared_y_axes().joined(grid[0, 0], grid[0, 1])


def test_rates_refuse_fewer_than_three_horizons(tmp_path, capsys):
    runs = [result(T=T, seed=s, avg=1.0 / T) for T in (100, 400) for s in range(2)]
    d = store_of(tmp_path, runs)
    out = tmp_path / "r.png"
    assert main(["plot", str(d), "--kind", "rates", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("byzref: error: rates need at least 3 distinct horizons")
    assert "T = 100, 400 (2)" in err
    assert not out.exists() and not (tmp_path / "r.png.json").exists()
    more = runs + [result(T=1600, seed=s, avg=1.0 / 1600) for s in range(2)]
    d2 = store_of(tmp_path / "b", more)
    assert main(["plot", str(d2), "--kind", "rates", "--out", str(out)]) == 0
    side = json.loads((tmp_path / "r.png.json").read_text())
    (ln,) = side["panels"][0]["lines"]
    assert ln["T"] == [100, 400, 1600] and ln["slope"] == pytest.approx(-1.0)


@pytest.mark.parametrize("args, message", [
    (["--where", "attack=krum_attack"],
     "--where attack=krum_attack matches no run; values of attack here: alie"),
    (["--where", "nosuch=1"], "--where 'nosuch' is not a field of these runs; keys: method, status"),
    (["--hue", "nosuch"], "--hue 'nosuch' is not a field of these runs; keys: method, status"),
    (["--size", "7"], "--size must be W,H in inches"),
    (["--size", "0,3"], "--size W,H must be positive"),
    (["--y", "loss"], "--y 'loss' is not a curve of these runs; allowed: agg_err, bits_down, bits_up"),
    (["--x", "time"], "--x 'time' is not a curve that grows along a run; allowed: iteration"),
    (["--labels", "nowhere.toml"], "--labels 'nowhere.toml' does not exist"),
])
def test_bad_options_are_one_line_errors_and_write_nothing(question_store, tmp_path, capsys, args, message):
    out = tmp_path / "f.pdf"
    assert main(["plot", str(question_store), "--kind", "curves", "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("byzref: error: ") and message in err
    assert list(tmp_path.iterdir()) == []


def test_where_filters_and_labels_override(question_store, tmp_path):
    (tmp_path / "names.toml").write_text('[algorithm]\nbyz_dm21 = "Ours"\n'
                                         '[key]\n"algorithm.gamma" = "step"\n')
    labels = load_labels(tmp_path / "names.toml", ["compressor.top_k=TopK"])
    p = build(question_store, "curves", where=["algorithm.gamma=0.05", "algorithm.gamma=0.1"], labels=labels)
    assert p.sidecar["filters"] == [["algorithm.gamma", 0.05], ["algorithm.gamma", 0.1]]
    assert p.sidecar["runs_selected"] == 8
    assert [ax.get_title() for ax in p.figure.axes] == ["step = 0.05", "step = 0.1"]
    assert [ln.get_label() for ln in named_lines(p.figure.axes[0])] == ["Ours, TopK",
                                                                        "Byz-EF21-SGDM, TopK"]
    one = build(question_store, "curves", where=["algorithm.gamma=0.05"], hue="none", col="method")
    assert [ax.get_title() for ax in one.figure.axes] == ["Byz-DM21, Top-k (k=2)",
                                                          "Byz-EF21-SGDM, Top-k (k=2)"]


def test_an_unscoped_label_overrides_the_built_in_name_and_a_scoped_one_wins_over_it():
    record = {"config": {"algorithm": {"name": "byz_dm21"}, "compressor": {"name": "identity"}}}
    assert Labels().method(record) == "Byz-DM21"
    assert load_labels(None, ["byz_dm21=Ours"]).method(record) == "Ours"
    assert load_labels(None, ["byz_dm21=Ours", "algorithm.byz_dm21=Mine"]).method(record) == "Mine"
    assert load_labels(None, ["byz_dm21=Ours"]).component("attack", "alie") == "ALIE"


def test_display_names_and_tex_escaping():
    lab = Labels()
    assert lab.value("aggregator", "nnm+cwtm") == "NNM + CWTM"
    attacks = ("alie", "ipm", "sign_flip", "label_flip")
    assert [lab.value("attack", a) for a in attacks] == ["ALIE", "IPM", "SF", "LF"]
    rec = {"config": {"algorithm": {"name": "byz_dm21"}, "compressor": {"name": "top_k", "k": 10}}}
    assert lab.method(rec) == "Byz-DM21, Top-k (k=10)"
    assert lab.setting("algorithm.gamma", 0.05) == "γ = 0.05"
    tex = Labels(usetex=True)
    assert tex.key("algorithm.gamma") == r"$\gamma$" and tex.value("aggregator", "my_agg") == r"my\_agg"


def test_verify_folder_and_usetex_without_latex(tmp_path, capsys, monkeypatch):
    store_of(tmp_path / "verify", [result(seed=s) for s in range(2)])
    (tmp_path / "verify" / "store").rename(tmp_path / "verify" / "runs")  # verify --out keeps OUT/runs
    p = build(tmp_path / "verify", "curves")
    assert p.sidecar["source"].endswith("runs") and len(named_lines(p.figure.axes[0])) == 1
    monkeypatch.setenv("PATH", str(tmp_path))  # no latex on the PATH
    assert main(["plot", str(tmp_path / "verify"), "--kind", "curves", "--out", str(tmp_path / "u.pdf"),
                 "--usetex"]) == 2
    assert "--usetex needs a LaTeX installation" in capsys.readouterr().err
    assert main(["plot", str(tmp_path / "verify"), "--kind", "curves", "--out", str(tmp_path / "u.pgf")]) == 2
    assert "PGF output needs" in capsys.readouterr().err
    assert not (tmp_path / "u.pdf").exists() and not (tmp_path / "u.pgf").exists()


def test_x_must_grow_along_a_run_and_figures_stay_out_of_stores(tmp_path, question_store, capsys):
    # a value curve as x cannot align seeds: refused in one line (it used to end in a traceback)
    assert main(["plot", str(question_store), "--kind", "curves", "--x", "grad_sq", "--out",
                 str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--x 'grad_sq'" in err and "iteration, bits_up, bits_down" in err
    # figures are derived data: never written into a results store
    inside = Path(question_store) / "fig.png"
    assert main(["plot", str(question_store), "--kind", "curves", "--out", str(inside)]) == 2
    assert "inside a results store" in capsys.readouterr().err and not inside.exists()
    # one sidecar per figure file: a PNG and a PDF of one stem keep their own descriptions
    for suffix, where in ((".png", "attack=alie"), (".pdf", "seed=0")):
        assert main(["plot", str(question_store), "--kind", "curves", "--where", where, "--out",
                     str(tmp_path / f"c{suffix}")]) == 0
    capsys.readouterr()
    png = json.loads((tmp_path / "c.png.json").read_text())
    pdf = json.loads((tmp_path / "c.pdf.json").read_text())
    assert png["figure"].endswith("c.png") and pdf["figure"].endswith("c.pdf")
    assert png != pdf


def test_a_one_column_stack_keeps_its_width_and_its_legend_below(tmp_path, question_store):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    p = build(question_store, "curves", hue="none", col="none")
    fig = p.figure
    FigureCanvasAgg(fig).draw()
    r = fig.canvas.get_renderer()
    axes = [a.get_window_extent(r) for a in fig.axes if a.get_visible()]
    leg = fig.legends[0].get_window_extent(r)
    assert len(axes) >= 2 and len({round(a.x0) for a in axes}) == 1  # one column
    assert leg.y1 <= min(a.y0 for a in axes)  # the legend is below every panel
    assert min(a.width for a in axes) > 0.7 * fig.bbox.width  # the axes keep the figure's width
