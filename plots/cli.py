"""``byzref plot DIR --kind curves|grid|rates --out FIG``: faceted figures of finished runs.

:func:`build` draws a figure and returns a :class:`Plot` (figure, printed lines, sidecar dict; tests
inspect all three); :func:`build_figure` is ``(figure, lines)`` of it; :func:`main_plot` saves the
figure (PDF, PNG, SVG, PGF or EPS by suffix, TrueType fonts) with ``FIG.pdf.json`` beside it and prints
what was drawn. See :ref:`guide-figures`.

Selection and faceting, for every kind: ``--where key=value`` (repeatable; OR within a key, AND across
keys, :func:`byzref.select.filter_runs`); ``--hue``/``--style``/``--col``/``--row KEY[,KEY]`` (``none``
to leave a role empty). Roles left open are filled so that every field that differs between the runs,
except the seed, is separated (:func:`plots.facets.resolve_roles`): each line is the median over the
seeds of one setting, with a band (``--band minmax`` default, ``iqr``, ``none``); the legend has a hue
section and a style section (never their cross product).

* ``curves``: hue = method; the other varying fields go to columns, then rows, then linestyles (a
  step-size grid of two methods: one panel per γ, one line per method).
* ``grid``: rows = aggregator, columns = attack, hue = method (the layout of the figures of Li, Liu,
  Yi, arXiv:2603.15144); per line the step size γ with the best median over seeds of ``avg_grad_sq``
  (diverged runs rank worst; :func:`byzref.select.best_step`), shown in each panel's legend, printed
  and in the sidecar.
* ``rates``: the summary ``avg_grad_sq`` = (1/T) Σ_{t<T} ‖∇f(xᵗ)‖² (or ``--y``) against the horizon
  T, per line a log-log slope with its bootstrap CI (theory.fitting.fit_loglog); every line
  needs ≥ 3 horizons T (T-dependent schedules count as fixed by T).

Which runs are read: :func:`byzref.runs.open_runs` (a results store, a ``byzref verify --out`` folder
or ``byzref run --out`` folders; intact curves of one numerics version only). A run with status
"stalled" is drawn like an "ok" one. The printed lines end with what was read and what was skipped.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from matplotlib.figure import Figure

from byzref.errors import ConfigError
from byzref.select import best_step, filter_runs, group, key_value, metric_value, parse_where
from plots.facets import (
    ROLES,
    Line,
    check_keys,
    layout,
    parse_role,
    resolve_roles,
    section_legend,
    seeds_of,
    seeds_range,
)
from plots.io import check_output, save, write_sidecar
from plots.labels import Labels, load_labels

__all__ = ["Plot", "build", "build_figure", "main_plot", "open_store", "parse_size"]

GRID_METRIC = "avg_grad_sq"
DRAWN = ("ok", "stalled")  # statuses whose value enters a rate fit (a stalled run's value is finite)
RATE_METRICS = ("avg_grad_sq", "final_grad_sq", "final_f_gap")
MIN_HORIZONS = 3
X_CURVES = ("iteration", "bits_up", "bits_down")  # the x axes of curves: nondecreasing along a run
SHAREY = {"none": False, "row": "row", "col": "col", "all": True}


@dataclass
class Plot:
    """A drawn figure: the matplotlib Figure, the lines to print and the sidecar (what was plotted).

    Made by :func:`build`; the parameters are kept as attributes of the same names.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        The figure (not saved yet).
    lines : list of str
        What was drawn, chosen, read and skipped (printed by ``byzref plot``).
    sidecar : dict, optional
        JSON-able description of the figure, written beside it as ``FIG.json`` (default empty).
    """

    figure: Figure
    lines: list[str]
    sidecar: dict = field(default_factory=dict)


def open_store(directory) -> tuple:
    """``(source, records, lines)`` of the runs at ``directory`` (:func:`byzref.runs.open_runs`).

    Parameters
    ----------
    directory : str or os.PathLike
        A results store, a ``byzref verify --out`` folder or a ``byzref run --out`` folder.

    Returns
    -------
    source : byzref.runs.RunSource
        The source.
    records : list of dict
        Its records.
    lines : list of str
        What was read and skipped.
    """
    from byzref.runs import open_runs

    src = open_runs(directory)
    return src, src.records, src.lines


def parse_size(text) -> tuple[float, float] | None:
    """``"W,H"`` (inches) as ``(W, H)``; None for None.

    Parameters
    ----------
    text : str or None
        ``"W,H"`` or ``"WxH"``.

    Returns
    -------
    tuple of float or None

    Raises
    ------
    ConfigError
        When it is not two sizes in (0, 100].
    """
    if text is None:
        return None
    parts = str(text).replace("x", ",").split(",")
    try:
        w, h = (float(p) for p in parts)
    except ValueError:
        raise ConfigError(f"--size must be W,H in inches (two numbers), e.g. --size 7,3; "
                          f"got {text!r}") from None
    if not (0 < w <= 100 and 0 < h <= 100):
        raise ConfigError(f"--size W,H must be positive sizes in inches up to 100, e.g. --size 7,3; "
                          f"got {text!r}")
    return w, h


def _curve_names(store, records) -> tuple[list[str], dict]:
    loaded = {r["run_id"]: store.load(r) for r in records}
    names = sorted(set.intersection(*(set(res.curves) for res in loaded.values())))
    return names, loaded


def _check_axis(name, value, allowed, what):
    if value not in allowed:
        raise ConfigError(f"{name} {value!r} is not {what}; allowed: {', '.join(allowed)}")


def _style_maps(hues, styles, roles, records, labels):
    from plots.style import LINESTYLES, hue_styles

    algs = []
    for h in hues:
        if roles["hue"] and roles["hue"][0] == "method":
            rec = next(r for r in records if key_value(r, "method") == h[0])
            algs.append(rec["config"]["algorithm"]["name"])
        elif roles["hue"] and roles["hue"][0] == "algorithm":
            algs.append(h[0])
        else:
            algs.append(None)
    hs = dict(zip(hues, hue_styles(hues, algs), strict=True))
    ss = {s: LINESTYLES[i % len(LINESTYLES)] for i, s in enumerate(styles)}
    return hs, ss


def _legend_sections(roles, hues, styles, hue_text, style_text, hs, ss, labels):
    from matplotlib.lines import Line2D

    sections = []
    if roles["hue"] and len(hues) >= 1:
        sections.append((", ".join(labels.key(k) for k in roles["hue"]),
                         [(Line2D([], [], color=hs[h]["color"], marker=hs[h]["marker"], markersize=4,
                                  linewidth=1.6), hue_text[h]) for h in hues]))
    if roles["style"] and len(styles) >= 1:
        sections.append((", ".join(labels.key(k) for k in roles["style"]),
                         [(Line2D([], [], color="0.25", linestyle=ss[s], linewidth=1.6), style_text[s])
                          for s in styles]))
    return sections


def _figure(n_rows, n_cols, size, legend_right, legend_rows):
    if size is not None:
        return Figure(figsize=size, layout="constrained")
    if n_rows * n_cols == 1:
        w, h = 5.6, 3.9
    elif n_cols == 1:  # a stack of panels: full width, so the legend below fits
        w, h = 5.6, 2.5 * n_rows
    else:
        w, h = 3.1 * n_cols, 2.5 * n_rows
    if legend_right:
        w += 2.0
    else:
        h += 0.2 + 0.17 * legend_rows
    return Figure(figsize=(w, h), layout="constrained")


def _axes(fig, n_rows, n_cols, sharey):
    return fig.subplots(n_rows, n_cols, sharex="col", sharey=SHAREY[sharey], squeeze=False)


def _label_axes(axes, xlabel, ylabel):
    n_rows, n_cols = axes.shape
    for i in range(n_rows):
        for j in range(n_cols):
            axes[i, j].set_ylabel(ylabel if j == 0 else "")
            axes[i, j].set_xlabel(xlabel if i == n_rows - 1 else "")


def _line_info(ln: Line, color, linestyle, extra=None) -> dict:
    return {"label": ln.label, "hue": ln.hue_text, "style": ln.style_text, "color": color,
            "linestyle": str(linestyle), "run_ids": [r["run_id"] for r in ln.runs],
            "seeds": seeds_of(ln.runs), "n_seeds": len(ln.runs),
            "statuses": [r["status"] for r in ln.runs], **(extra or {})}


def _prepare(store_dir, kind, where, hue, style, col, row, labels):
    store, records, read = open_store(store_dir)
    conditions = parse_where(where)
    if conditions:
        check_keys(records, [k for k, _ in conditions], "--where")
        records = filter_runs(records, conditions)
    given = {"hue": parse_role(hue), "style": parse_role(style), "col": parse_role(col),
             "row": parse_role(row)}
    for r in ROLES:
        if given[r]:
            check_keys(records, given[r], f"--{r}")
    return store, records, read, conditions, given


def build(store_dir, kind: str, x: str | None = None, y: str | None = None, where=(), hue=None, style=None,
          col=None, row=None, sharey: str | None = None, size=None, title: str | None = None,
          labels: Labels | None = None, band: str = "minmax") -> Plot:
    """Draw the figure of ``kind`` ("curves", "grid", "rates") from the runs at ``store_dir``.

    Parameters
    ----------
    store_dir : path
        Results store, verify folder or run folder (:func:`byzref.runs.open_runs`).
    kind : str
        "curves", "grid" or "rates".
    x, y : str, optional
        Curves: x = iteration (default), bits_up, bits_down or any curve; y = grad_sq (default),
        grad_sq_avg, f_gap, dist, agg_err or any curve. Rates: x = T; y = avg_grad_sq (default),
        final_grad_sq, final_f_gap or the final value of any curve.
    where : iterable of str
        ``key=value`` filters.
    hue, style, col, row : str, optional
        Comma-separated keys, "none", or None for the default.
    sharey : "row", "col", "all", "none" or None
        y-axis sharing between panels. None: "col" for ``grid`` (its columns are the attacks, whose
        scales differ most: label flip reaches 1e-32 where the others plateau) and "row" for the
        other kinds.
    size : (float, float), optional
        Figure width and height in inches.
    title : str, optional
        Figure title.
    labels : plots.labels.Labels, optional
        Display names (default: the built-in table).
    band : "minmax", "iqr" or "none"
        Band over seeds around each median line (default "minmax").

    Returns
    -------
    Plot

    Raises
    ------
    ConfigError
        For an unknown kind, option value or key, or runs that cannot make the figure.
    """
    if kind not in ("curves", "rates", "grid"):
        raise ConfigError(f"kind must be one of curves, rates, grid, got {kind!r}")
    if sharey is None:
        sharey = "col" if kind == "grid" else "row"
    if sharey not in SHAREY:
        raise ConfigError(f"--sharey must be one of {', '.join(SHAREY)}, got {sharey!r}")
    from plots.curves import BANDS

    if band not in (*BANDS, "none", None):
        raise ConfigError(f"--band must be one of {', '.join(BANDS)}, none; got {band!r}")
    band = None if band in (None, "none") else band
    labels = labels or Labels()
    store, records, read, conditions, given = _prepare(store_dir, kind, where, hue, style, col, row, labels)
    side = {"kind": kind, "source": str(store.path), "source_kind": store.kind,
            "filters": [[k, v] for k, v in conditions], "runs_read": len(store.records),
            "runs_selected": len(records)}
    if kind == "rates":
        out, fig = _rates(store, records, given, x, y, sharey, size, labels, side)
    else:
        out, fig = _curves(store, records, given, kind, x, y, sharey, size, labels, band, side)
    if title:
        fig.suptitle(title)
        side["title"] = title
    return Plot(fig, out + read, side)


def build_figure(store_dir, kind: str, x: str | None = None, y: str | None = None, **kwargs):
    """``(figure, printed lines)`` of :func:`build` (same parameters).

    Parameters
    ----------
    store_dir : str or os.PathLike
        As for :func:`build`.
    kind : str
        "curves", "grid" or "rates".
    x, y : str, optional
        As for :func:`build`.
    **kwargs
        The other keyword arguments of :func:`build`.

    Returns
    -------
    figure : matplotlib.figure.Figure
    lines : list of str
    """
    p = build(store_dir, kind, x=x, y=y, **kwargs)
    return p.figure, p.lines


def _curves(store, records, given, kind, x, y, sharey, size, labels, band, side):
    from plots.curves import BANDS, draw_median

    x, y = x or "iteration", y or "grad_sq"
    names, loaded = _curve_names(store, records)
    # seeds are aligned on x, so x must grow along a run: the iteration or the cumulative bits
    _check_axis("--x", x, [n for n in X_CURVES if n in names], "a curve that grows along a run")
    _check_axis("--y", y, names, "a curve of these runs")
    grid = kind == "grid"
    defaults = {"hue": ("method",)}
    if grid:
        defaults.update(row=("aggregator",), col=("attack",))
    exclude = ("seed", "algorithm.gamma") if grid else ("seed",)
    if grid:
        for r in ("row", "col"):
            if given[r] is None and all(key_value(rec, defaults[r][0], default=None) is None
                                        for rec in records):
                defaults[r] = ()
    roles, notes = resolve_roles(records, given, defaults, exclude=exclude)
    chosen = {}
    placed = tuple(k for r in ROLES for k in roles[r])
    select = grid and "algorithm.gamma" not in placed and any(
        key_value(r, "algorithm.gamma", default=None) is not None for r in records)
    drawn = records
    if select:
        sel = best_step(records, param="algorithm.gamma", metric=GRID_METRIC, group_by=placed)
        chosen, drawn = sel.chosen, sel.runs
    grid_p, hues, styles = layout(drawn, roles, labels)
    n_rows, n_cols = len(grid_p), len(grid_p[0])
    hue_text = {ln.hue: ln.hue_text for prow in grid_p for p in prow for ln in p.lines}
    style_text = {ln.style: ln.style_text for prow in grid_p for p in prow for ln in p.lines}
    hs, ss = _style_maps(hues, styles, roles, drawn, labels)
    sections = _legend_sections(roles, hues, styles, hue_text, style_text, hs, ss, labels)
    right = False  # below the panels: at the right of a one-column stack it squeezed the axes
    fig = _figure(n_rows, n_cols, size, right, max((len(e) for _, e in sections), default=0) + 1)
    axes = _axes(fig, n_rows, n_cols, sharey)
    all_lines = [ln for prow in grid_p for p in prow for ln in p.lines]
    band_text = BANDS[band][2] if band else "no band"
    side["facets"] = {r: list(roles[r]) for r in ROLES}
    side.update(x=x, y=y, aggregation=f"median over seeds; band: {band_text}", panels=[])
    if select:
        side["selection"] = {"param": "algorithm.gamma", "metric": GRID_METRIC,
                             "rule": "best median over seeds (diverged runs rank worst)"}
    for i, prow in enumerate(grid_p):
        for j, panel in enumerate(prow):
            ax = axes[i, j]
            info = {"row": list(panel.row), "col": list(panel.col), "title": panel.title, "lines": []}
            handles = []
            for ln in panel.lines:
                st = hs[ln.hue]
                runs = [loaded[r["run_id"]] for r in ln.runs]
                line = draw_median(ax, runs, x, y, st["color"], ss[ln.style], st["marker"], band=band,
                                   label=ln.label)
                extra = {"statuses": dict(Counter(str(r.get("status")) for r in ln.runs))}
                _mark_stalled(ax, line, extra["statuses"], len(ln.runs), st["color"])
                if select:
                    g = tuple(key_value(ln.runs[0], k, default=None) for k in placed)
                    extra["gamma"] = chosen[g]
                    handles.append((line, f"{labels.key('algorithm.gamma')} = {chosen[g]:g}"))
                info["lines"].append(_line_info(ln, st["color"], ss[ln.style], extra))
            if not panel.lines:
                ax.text(0.5, 0.5, "no runs", transform=ax.transAxes, ha="center", va="center")
            ax.set_yscale("log")
            ax.set_title(panel.title, fontsize="medium")
            if handles:
                ax.legend([h for h, _ in handles], [t for _, t in handles], fontsize="x-small",
                          handlelength=1.6, loc="best", framealpha=0.7)
            if select:
                info["gamma"] = {ln["label"]: ln["gamma"] for ln in info["lines"]}
            side["panels"].append(info)
    _label_axes(axes, labels.key(x), labels.key(y))
    section_legend(fig, sections, f"median of {seeds_range(all_lines)}; band: {band_text}", n_cols, n_rows)
    head = (f"{kind}: {n_rows * n_cols} panel{'s' if n_rows * n_cols > 1 else ''} "
            f"({n_rows} × {n_cols}), {len(all_lines)} lines from {len(drawn)} runs "
            f"(median over {seeds_range(all_lines)}, band {band_text})")
    out = [head]
    if grid:
        out[0] = (f"grid: {_count(n_rows, roles['row'])} × {_count(n_cols, roles['col'])} = "
                  f"{n_rows * n_cols} panels, {len(hues)} "
                  f"{'methods' if roles['hue'] == ('method',) else 'hues'}; "
                  f"{len(drawn)} of {len(records)} runs drawn")
    out.append("  " + "; ".join(f"{r}: {', '.join(roles[r]) or '-'}" for r in ROLES))
    if notes:
        out.append(f"  varying fields placed: {', '.join(notes)}")
    if select:
        out += _gamma_table(grid_p, chosen, placed, labels)
    else:
        for panel in (p for prow in grid_p for p in prow):
            for ln in panel.lines:
                out.append(f"  {panel.title + ': ' if panel.title else ''}{ln.label} ({len(ln.runs)} seeds)")
    return out, fig


def _count(n, keys) -> str:
    if not keys:
        return "1"
    name = ", ".join(keys)
    return f"{n} {name}s" if len(keys) == 1 and "." not in name else f"{n} ({name})"


def _gamma_table(grid_p, chosen, placed, labels) -> list[str]:
    out = [f"chosen step size γ per panel: best median over seeds of {GRID_METRIC} (diverged runs worst)"]
    cols = [p.title.split(" · ")[-1] for p in grid_p[0]]
    names = list(dict.fromkeys(ln.label for prow in grid_p for p in prow for ln in p.lines))
    w = max([len(m) for m in names] + [len(p[0].title.split(" · ")[0]) for p in grid_p]) + 2
    cw = max([12] + [len(c) + 2 for c in cols])
    for prow in grid_p:
        out.append(f"{prow[0].title.split(' · ')[0] if ' · ' in prow[0].title else '':<{w}}"
                   + "".join(f"{c:>{cw}}" for c in cols))
        for m in names:
            vals = []
            for p in prow:
                ln = next((ln for ln in p.lines if ln.label == m), None)
                if ln is None:
                    vals.append(f"{'-':>{cw}}")
                else:
                    g = tuple(key_value(ln.runs[0], k, default=None) for k in placed)
                    vals.append(f"{chosen[g]:>{cw}g}")
            out.append(f"  {m:<{w - 2}}" + "".join(vals))
    return out


def _rate_value(rec, y, loaded):
    if y in RATE_METRICS:
        return metric_value(rec, y) if rec["status"] != "diverged" else math.inf
    import numpy as np

    v = np.asarray(loaded[rec["run_id"]].curves[y], float)
    v = v[np.isfinite(v)]
    return float(v[-1]) if v.size else math.inf


def _t_ticks(ax, Ts) -> None:
    """Major ticks of a log T axis at the horizons (plain integers), no minor labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    if Ts:
        ax.xaxis.set_major_locator(FixedLocator(Ts))
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{v:g}")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.xaxis.set_minor_formatter(NullFormatter())


def _rates(store, records, given, x, y, sharey, size, labels, side):
    from plots.rates import fit_label, plot_rates
    from theory.fitting import fit_loglog

    if x not in (None, "T"):
        raise ConfigError(f"--x {x!r}: a rate plot is drawn against the horizon T "
                          "(leave out --x or give --x T)")
    y = y or "avg_grad_sq"
    loaded = {}
    if y not in RATE_METRICS:
        names, loaded = _curve_names(store, records)
        if y not in names:
            raise ConfigError(f"--y {y!r} is not a summary metric or a curve of these runs; allowed: "
                              f"{', '.join(RATE_METRICS)}, {', '.join(names)} (final value)")
    roles, notes = resolve_roles(records, given, {"hue": ("method",)}, exclude=("seed", "T"),
                                 determined=("T",))
    grid_p, hues, styles = layout(records, roles, labels)
    for prow in grid_p:  # every line needs enough horizons: refuse before drawing
        for p in prow:
            for ln in p.lines:
                Ts = sorted({key_value(r, "T") for r in ln.runs})
                if len(Ts) < MIN_HORIZONS:
                    where = f"{p.title}: " if p.title else ""
                    raise ConfigError(f"rates need at least {MIN_HORIZONS} distinct horizons T per line; "
                                      f"{where}{ln.label or 'the runs'} have T = {', '.join(map(str, Ts))} "
                                      f"({len(Ts)}); sweep more horizons (T = [...]) or use --kind curves")
    n_rows, n_cols = len(grid_p), len(grid_p[0])
    hue_text = {ln.hue: ln.hue_text for prow in grid_p for p in prow for ln in p.lines}
    style_text = {ln.style: ln.style_text for prow in grid_p for p in prow for ln in p.lines}
    hs, ss = _style_maps(hues, styles, roles, records, labels)
    sections = _legend_sections(roles, hues, styles, hue_text, style_text, hs, ss, labels)
    depth = max((len(e) for _, e in sections), default=0) + 3
    fig = _figure(n_rows, n_cols, size, False, depth)
    axes = _axes(fig, n_rows, n_cols, sharey)
    side["facets"] = {r: list(roles[r]) for r in ROLES}
    side.update(x="T", y=y, aggregation="median over seeds per T; fit: log-log least squares over the seeds "
                "common to every T, 95% bootstrap CI", panels=[])
    out = []
    ref_handles = {}
    all_lines = []
    for i, prow in enumerate(grid_p):
        for j, panel in enumerate(prow):
            ax = axes[i, j]
            fits = []
            info = {"row": list(panel.row), "col": list(panel.col), "title": panel.title, "lines": []}
            for ln in panel.lines:
                all_lines.append(ln)
                vals = {}
                for r in ln.runs:
                    v = _rate_value(r, y, loaded) if r["status"] in DRAWN else math.inf
                    if math.isfinite(v) and v > 0:
                        vals.setdefault(key_value(r, "T"), {})[key_value(r, "seed", default=None)] = v
                Ts = sorted(vals)
                left = len(ln.runs) - sum(len(v) for v in vals.values())
                common = sorted(set.intersection(*(set(v) for v in vals.values())), key=str) if Ts else []
                fit = {"label": ln.label, "T": Ts, "values": [list(vals[t].values()) for t in Ts],
                       "color": hs[ln.hue]["color"], "marker": hs[ln.hue]["marker"],
                       "linestyle": ss[ln.style]}
                entry = {"T": Ts, "values": fit["values"]}
                if len(Ts) >= 2 and common:
                    sf = fit_loglog(Ts, [[vals[t][s] for s in common] for t in Ts])
                    fit.update(slope=sf.slope, ci=sf.ci, intercept=sf.intercept)
                    entry.update(slope=sf.slope, ci=list(sf.ci), fit_seeds=common)
                    text = (f"slope {sf.slope:+.3f} [{sf.ci[0]:+.3f}, {sf.ci[1]:+.3f}] "
                            f"over {len(common)} seeds")
                else:
                    text = "no fit (needs ≥ 2 horizons T with a common finite seed)"
                if Ts:
                    fits.append(fit)
                note = f"; {left} diverged or non-finite left out" if left else ""
                where = f"{panel.title}: " if panel.title else ""
                out.append(f"  {where}{ln.label}: T = {', '.join(map(str, Ts))}; {text}{note}")
                info["lines"].append(_line_info(ln, hs[ln.hue]["color"], ss[ln.style], entry))
            plot_rates(ax, fits)
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
            mine = [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]
            per = []
            for ln2 in mine:
                if ln2.get_label().endswith("reference"):
                    ref_handles.setdefault(ln2.get_label(), ln2)
                else:
                    fit = next(f for f in fits if fit_label(f["label"], f.get("slope"), f.get("ci"))
                               == ln2.get_label())
                    per.append((ln2, fit_label("fit", fit.get("slope"), fit.get("ci")).replace("fit: ", "")))
            if per:
                ax.legend([h for h, _ in per], [t for _, t in per], fontsize="x-small", loc="best",
                          framealpha=0.7)
            ax.set_title(panel.title, fontsize="medium")
            _t_ticks(ax, sorted({t for f in fits for t in f["T"]}))
            side["panels"].append(info)
    _label_axes(axes, labels.key("T"), labels.key(y))
    refs = {"T^-1/2 reference": "$T^{-1/2}$", "T^-2/3 reference": "$T^{-2/3}$"}
    sections.append(("reference", [(h, refs.get(t, t)) for t, h in ref_handles.items()]))
    per_t = sorted({len(v) for ln in all_lines for v in group(ln.runs, ("T",)).values()}) or [0]
    seeds = f"{per_t[0]}" if per_t[0] == per_t[-1] else f"{per_t[0]}–{per_t[-1]}"
    section_legend(fig, sections, f"median of {seeds} seeds per T; dash-dot: fitted slope", n_cols, n_rows)
    head = [f"rates: {n_rows * n_cols} panel{'s' if n_rows * n_cols > 1 else ''}, {len(all_lines)} lines "
            f"({y} against T, log-log, 95% bootstrap CI)",
            "  " + "; ".join(f"{r}: {', '.join(roles[r]) or '-'}" for r in ROLES)]
    if notes:
        head.append(f"  varying fields placed: {', '.join(notes)}")
    return head + out, fig


def _mark_stalled(ax, line, statuses: dict, n_runs: int, color) -> None:
    """Write "stalled" (with the count when not every seed stalled) at the end of a line whose runs
    stalled (byzref.engine.progress_ratio: no tenfold decrease of ‖∇f‖² over the second half)."""
    k = statuses.get("stalled", 0)
    if not k or line is None:
        return
    xd, yd = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    ok = np.isfinite(xd) & np.isfinite(yd)
    if not ok.any():
        return
    i = np.flatnonzero(ok)[-1]
    text = "stalled" if k == n_runs else f"stalled ({k} of {n_runs} seeds)"
    ax.annotate(text, xy=(xd[i], yd[i]), xytext=(0, 3), textcoords="offset points", ha="right",
                va="bottom", fontsize="x-small", color=color, gid="status:stalled")


def main_plot(args) -> int:
    """Entry point of ``byzref plot``: draw, save the figure and its sidecar, print what was drawn; return 0.

    ``--out`` (and ``--size``, ``--usetex``) are checked before anything is read; nothing is written
    when drawing fails.

    Parameters
    ----------
    args : argparse.Namespace
        ``store``, ``kind``, ``out``, and optionally ``x``, ``y``, ``where``, ``hue``, ``style``,
        ``col``, ``row``, ``sharey``, ``size``, ``font_size``, ``usetex``, ``title``, ``labels``,
        ``label``, ``band``.

    Returns
    -------
    int
        0.
    """
    import matplotlib

    from plots.style import paper_rc

    usetex = bool(getattr(args, "usetex", False))
    out = check_output(args.out, usetex=usetex)
    size = parse_size(getattr(args, "size", None))
    font_size = getattr(args, "font_size", None)
    if font_size is not None and not (0 < float(font_size) <= 72):
        raise ConfigError(f"--font-size must be in (0, 72] points, got {font_size}")
    labels = load_labels(getattr(args, "labels", None), getattr(args, "label", None) or (), usetex=usetex)
    with matplotlib.rc_context(paper_rc(font_size, usetex)):
        p = build(args.store, args.kind, x=getattr(args, "x", None), y=getattr(args, "y", None),
                  where=getattr(args, "where", None) or (), hue=getattr(args, "hue", None),
                  style=getattr(args, "style", None), col=getattr(args, "col", None),
                  row=getattr(args, "row", None), sharey=getattr(args, "sharey", None), size=size,
                  title=getattr(args, "title", None), labels=labels, band=getattr(args, "band", "minmax"))
        path = save(p.figure, out)
    p.sidecar.update(figure=str(path), size_inches=[round(float(v), 3) for v in p.figure.get_size_inches()],
                     font_size=font_size, usetex=usetex)
    side = write_sidecar(path, p.sidecar)
    print("\n".join(p.lines))
    print(f"wrote {path} and {side.name}")
    return 0
