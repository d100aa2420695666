"""``byzref plot DIR --kind curves|rates|grid --out FILE``: figures from a results store (DESIGN.md "CLI").

:func:`build_figure` draws and returns ``(figure, printed lines)`` (tests inspect the figure);
:func:`main_plot` saves it (PDF or PNG by suffix) and prints what was drawn.

* ``curves``: one axes, every run, one line per method label (median over seeds, :func:`plots.plot_curves`);
  fields that are not the method's own and still differ between runs (a step-size grid, several
  aggregators) are appended to the label, so distinct settings are never pooled.
* ``grid``: rows of aggregators × columns of attacks (paper.md §4.2); per (method, aggregator, attack)
  the step size γ with the best median over seeds of ``avg_grad_sq`` (the paper's plot.py keeps the
  lr with the best mean-over-epochs metric; diverged runs rank worst), then :func:`plots.grid.plot_grid`.
* ``rates``: runs that differ in T (and seed; T-dependent schedules are recognised as fields fixed by
  the method and T) grouped by everything else; avg_grad_sq = (1/T) Σ_{t<T} ‖∇f(xᵗ)‖² per T and seed,
  a log-log slope with its bootstrap CI (theory.fitting.fit_loglog, SPEC §6), :func:`plots.plot_rates`.

Which runs are read (:func:`open_store`): per run id the last record whose curves verify
(:class:`byzref.store.ResultStore`); damaged records (curve file missing, truncated, altered, a symlink)
and unparseable lines are skipped. Runs of two numerics versions are never pooled: a store holding
several is read for this byzref's version only (a ConfigError when it holds none of it). A run with
status "stalled" is drawn like an "ok" one (its curve is finite). The printed lines end with what was
read and what was skipped, and why.
"""

from __future__ import annotations

import math
from pathlib import Path

from matplotlib.figure import Figure

from byzref.errors import ConfigError
from byzref.select import best_step, group, key_value, method_label, undetermined
from plots.grid import as_labelled, plot_grid
from plots.io import save

__all__ = ["build_figure", "main_plot", "open_store"]

GRID_METRIC = "avg_grad_sq"
ROW_ORDER = ("nnm+gm", "nnm+cwmed", "nnm+cwtm", "gm", "cwmed", "cwtm")  # the paper's row order (§4.2)
COL_ORDER = ("sign_flip", "label_flip", "ipm", "alie")
DRAWN = ("ok", "stalled")  # statuses whose avg_grad_sq enters a rate fit (a stalled run's value is finite)


def open_store(directory) -> tuple:
    """``(source, records, lines)`` of the runs at ``directory`` (:func:`byzref.runs.open_runs`): a
    results store, a ``byzref verify --out`` folder or a ``byzref run --out`` folder."""
    from byzref.runs import open_runs

    src = open_runs(directory)
    return src, src.records, src.lines


def _short(path: str) -> str:
    return path[: -len(".name")] if path.endswith(".name") else path.rsplit(".", 1)[-1]


def _label(rec: dict, fields) -> str:
    """Method label plus the values of ``fields`` (component names bare, others as ``name=value``)."""
    parts = [method_label(rec)]
    for f in fields:
        v = key_value(rec, f, default="-")
        parts.append(str(v) if f.endswith(".name") else f"{_short(f)}={v:g}" if isinstance(v, float)
                     else f"{_short(f)}={v}")
    return " | ".join([parts[0], ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]


def _curves(fig, store, records, x, y) -> list[str]:
    from plots.curves import plot_curves

    extra = undetermined(records, ("method",), exclude={"seed"})
    runs = [as_labelled(store.load(r), _label(r, extra)) for r in records]
    ax = fig.add_subplot()
    plot_curves(ax, runs, x=x, y=y)
    labels = list(dict.fromkeys(r["label"] for r in runs))
    if len(labels) > 10:  # a long legend goes to the right of the axes, in columns of up to 25 entries
        cols = math.ceil(len(labels) / 25)
        fig.set_size_inches(7.0 + 3.2 * cols, max(4.8, 0.19 * min(len(labels), 25) + 1.0))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="x-small", ncol=cols)
    out = [f"curves: 1 panel, {len(labels)} lines from {len(runs)} runs (median over seeds)"]
    if extra:
        out.append(f"  lines split by {', '.join(_short(f) for f in extra)} (differing besides the method)")
    more = [f"  ... {len(labels) - 20} more"] if len(labels) > 20 else []
    return out + [f"  {lab}" for lab in labels[:20]] + more


def _grid(fig, store, records, x, y) -> list[str]:
    base = ("method", "aggregator", "attack")
    extra = undetermined(records, base, exclude={"seed", "algorithm.gamma"})
    sel = best_step(records, param="algorithm.gamma", metric=GRID_METRIC, group_by=base + extra)
    runs = [{"curves": store.load(r).curves, "status": r["status"], "config": r["config"],
             "label": _label(r, extra)} for r in sel.runs]
    axes = plot_grid(fig, runs, rows="aggregator", cols="attack", x=x, y=y, label=lambda r: r["label"],
                     row_order=ROW_ORDER, col_order=COL_ORDER)
    rows = [ax.get_title().split(" · ")[0] for ax in axes[:, 0]]
    cols = [ax.get_title().split(" · ")[1] for ax in axes[0]]
    labels = {tuple(key_value(r, k) for k in base + extra): r["label"] for r in runs}
    table = {(labels[g], g[1], g[2]): v for g, v in sel.chosen.items()}
    methods = list(dict.fromkeys(r["label"] for r in runs))
    out = [f"grid: {len(rows)} aggregators × {len(cols)} attacks = {axes.size} panels, "
           f"{len(methods)} methods; {len(sel.runs)} of {len(records)} runs drawn",
           f"chosen step size γ per panel: best median over seeds of {GRID_METRIC} (diverged runs worst)"]
    w = max(len(m) for m in methods) + 2
    for rv in rows:
        out.append(f"{rv:<{w}}" + "".join(f"{c:>12}" for c in cols))
        for m in methods:
            out.append(f"  {m:<{w - 2}}" + "".join(f"{table[(m, rv, c)]:>12g}" if (m, rv, c) in table
                                                    else f"{'-':>12}" for c in cols))
    return out


def _rates(fig, store, records) -> list[str]:
    from plots.rates import plot_rates
    from theory.fitting import fit_loglog

    fields = undetermined(records, ("method", "T"), exclude={"seed", "T"})
    out, fits = [], []
    for _, runs in group(records, ("method", *fields)).items():
        label = _label(runs[0], fields)
        ok = [r for r in runs if r["status"] in DRAWN and math.isfinite(float(r["summary"]["avg_grad_sq"]))
              and float(r["summary"]["avg_grad_sq"]) > 0]
        by_t = group(ok, ("T",))
        Ts = sorted(t for (t,) in by_t)
        vals = {t: {key_value(r, "seed"): float(r["summary"]["avg_grad_sq"]) for r in by_t[(t,)]} for t in Ts}
        common = sorted(set.intersection(*(set(v) for v in vals.values()))) if Ts else []
        fit = {"label": label, "T": Ts, "values": [list(vals[t].values()) for t in Ts], "predicted": None}
        note = f"{len(runs) - len(ok)} diverged left out" if len(ok) < len(runs) else ""
        if len(Ts) >= 2 and common:
            sf = fit_loglog(Ts, [[vals[t][s] for s in common] for t in Ts])
            fit.update(slope=sf.slope, ci=sf.ci, intercept=sf.intercept)
            text = f"slope {sf.slope:+.3f} [{sf.ci[0]:+.3f}, {sf.ci[1]:+.3f}] over {len(common)} seeds"
        else:
            text = "no fit (needs ≥ 2 horizons T with a common finite seed)"
        if Ts:
            fits.append(fit)
        out.append(f"  {label}: T = {', '.join(map(str, Ts))}; {text}" + (f"; {note}" if note else ""))
    plot_rates(fig.add_subplot(), fits)
    return [f"rates: 1 panel, {len(fits)} lines (avg_grad_sq against T, log-log, 95% bootstrap CI)", *out]


def build_figure(store_dir, kind: str, x: str = "iteration", y: str = "grad_sq"):
    """Draw the figure of ``kind`` ("curves", "grid", "rates") from the store; return (figure, lines)."""
    if kind not in ("curves", "rates", "grid"):
        raise ConfigError(f"kind must be one of curves, rates, grid, got {kind!r}")
    store, records, read = open_store(store_dir)
    if kind == "grid":
        n_rows = len(group(records, ("aggregator",)))
        n_cols = len(group(records, ("attack",)))
        fig = Figure(figsize=(3.4 * n_cols, 2.7 * n_rows + 0.9), layout="constrained")
        return fig, _grid(fig, store, records, x, y) + read
    fig = Figure(figsize=(7.0, 4.8), layout="constrained")
    if kind == "curves":
        return fig, _curves(fig, store, records, x, y) + read
    return fig, _rates(fig, store, records) + read


def main_plot(args) -> int:
    """Entry point of ``byzref plot`` (args: store, kind, out, x, y); prints what it drew; returns 0.

    ``--out`` is checked before anything is read: a .pdf or .png name, in an existing folder, not a folder.
    """
    out = Path(args.out)
    if out.suffix.lower() not in (".pdf", ".png"):
        raise ConfigError(f"--out must end in .pdf or .png, got {args.out!r}")
    if out.is_dir():
        raise ConfigError(f"--out {args.out!r} is a directory; --out must name a .pdf or .png file")
    if not out.parent.is_dir():
        raise ConfigError(f"--out {args.out!r}: the folder {str(out.parent)!r} does not exist; --out must be "
                          "a file in an existing folder")
    fig, lines = build_figure(args.store, args.kind, x=args.x, y=args.y)
    path = save(fig, args.out)
    print("\n".join(lines))
    print(f"wrote {path}")
    return 0
