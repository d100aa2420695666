"""Faceted figures of run records: hue, style, column and row keys, median over seeds per line.

A *role* (hue, style, col, row) holds a tuple of keys (:func:`byzref.select.key_value`: ``"method"``,
a component name key such as ``"attack"``, or a dotted config path such as ``"algorithm.gamma"``).
:func:`resolve_roles` fills the roles the user left open so that every field that varies between the
runs, except the seed (and what the figure kind selects or plots against), is separated: the runs of
one line then differ in their seed only. :func:`layout` groups the runs into panels and lines;
``byzref plot`` (:mod:`plots.cli`) draws them (median over seeds, a band, colours by hue, linestyles
by style) with one figure legend in sections (hue, then style, :func:`section_legend`) instead of the
cross product. See :ref:`guide-figures`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from byzref.errors import ConfigError
from byzref.select import _COMPONENTS, flatten, group, key_value, undetermined

__all__ = ["ROLES", "Line", "Panel", "available_keys", "check_keys", "layout", "parse_role",
           "resolve_roles", "section_legend"]

#: the four roles, in the order :func:`layout` reads them
ROLES = ("hue", "style", "col", "row")
#: the paper's orders (§4.2) for aggregator rows and attack columns; other values follow, sorted.
ORDERS = {"aggregator": ("nnm+gm", "nnm+cwmed", "nnm+cwtm", "gm", "cwmed", "cwtm"),
          "attack": ("sign_flip", "label_flip", "ipm", "alie")}
_PRIORITY = ("attack", "aggregator", "problem", "method", "compressor")


def _record(run) -> dict:
    return run.record() if hasattr(run, "record") and callable(run.record) else run


def available_keys(records) -> list[str]:
    """Every key a run can be grouped or filtered by: method, status, component names, dotted paths.

    Parameters
    ----------
    records : list of dict
        Run records.

    Returns
    -------
    list of str
        ``"method"``, ``"status"``, the component families present, then every dotted config path
        (sorted).
    """
    paths = sorted(set().union(*(flatten(_record(r)["config"]) for r in records))) if records else []
    comps = [c for c in _COMPONENTS if f"{c}.name" in paths]
    return ["method", "status", *comps, *paths]


def check_keys(records, keys, what: str) -> None:
    """A ConfigError naming ``what`` (e.g. ``--hue``) and listing the available keys when a key is unknown.

    Parameters
    ----------
    records : list of dict
        Run records.
    keys : iterable of str
        The keys to check.
    what : str
        The option the keys came from, for the message.

    Raises
    ------
    ConfigError
        For the first key that is not in :func:`available_keys`.
    """
    have = available_keys(records)
    for k in keys:
        if k not in have:
            raise ConfigError(f"{what} {k!r} is not a field of these runs; keys: {', '.join(have)}")


def parse_role(text: str | None) -> tuple[str, ...] | None:
    """``--hue`` text as keys: None (not given: default), ``()`` for "none", else comma-separated keys.

    Parameters
    ----------
    text : str or None
        The option's text.

    Returns
    -------
    tuple of str or None
    """
    if text is None:
        return None
    text = str(text).strip()
    if text.lower() in ("none", ""):
        return ()
    return tuple(k.strip() for k in text.split(",") if k.strip())


def _key_of(path: str) -> str:
    head = path[: -len(".name")] if path.endswith(".name") else None
    if head in ("algorithm", "compressor"):
        return "method"
    return head if head in _COMPONENTS else path


def _rank(key: str) -> tuple:
    return (_PRIORITY.index(key) if key in _PRIORITY else len(_PRIORITY), key)


def resolve_roles(records, given: dict[str, tuple | None], defaults: dict[str, tuple],
                  exclude=("seed",), determined=()) -> tuple[dict[str, tuple], list[str]]:
    """Roles with every varying field placed; return ``(roles, notes)``.

    Parameters
    ----------
    records : list of dict
        Run records.
    given : dict
        Per role the user's keys (None: not given).
    defaults : dict
        Per role the keys used when it is not given (e.g. hue: ("method",)).
    exclude : iterable of str
        Dotted paths never placed (the seed; γ for a grid, which selects it; T for rates).
    determined : iterable of str
        Keys counted as placed without a role (e.g. T for rates, so T-dependent schedules are not split).

    Fields still undetermined by the placed keys (:func:`byzref.select.undetermined`) go, in the order
    attack, aggregator, problem, method, then the rest by name, to the first role still open of col,
    row, style (roles not given and without a default); with none open, they are added to style (or to
    hue when style was given as none).
    """
    roles = {r: tuple(given[r]) if given.get(r) is not None else tuple(defaults.get(r, ())) for r in ROLES}
    open_ = [r for r in ("col", "row", "style") if given.get(r) is None and not defaults.get(r)]
    notes = []
    while True:
        placed = tuple(k for r in ROLES for k in roles[r]) + tuple(determined)
        left = undetermined(records, placed, exclude=set(exclude))
        keys = sorted({_key_of(p) for p in left} - set(placed), key=_rank)
        if not keys:
            return roles, notes
        k = keys[0]
        if open_:
            r = open_.pop(0)
        else:
            r = "style" if given.get("style") != () else "hue"
        roles[r] = (*roles[r], k)
        notes.append(f"{k} → {r}")


def _order_key(key: str, v):
    order = ORDERS.get(key)
    if order is not None and v in order:
        return (0, order.index(v), 0, "")
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return (1, 0, float(v), "")
    return (2, 0, 0, str(v))


def ordered(values, keys) -> list[tuple]:
    """Distinct value tuples of ``keys``: paper orders for aggregators/attacks, numbers ascending,
    otherwise in order of first appearance (methods as the sweep lists them)."""
    present = list(dict.fromkeys(values))
    if not keys:
        return present
    first = {v: i for i, v in enumerate(present)}

    def sort_key(vt):
        return tuple(_order_key(k, v) if k in ORDERS or not isinstance(v, str) else (3, first[vt], 0, "")
                     for k, v in zip(keys, vt, strict=True))

    return sorted(present, key=sort_key)


@dataclass
class Line:
    """One drawn line: its hue and style values, their display texts and the runs (its seeds).

    The parameters are kept as attributes of the same names.

    Parameters
    ----------
    hue : tuple
        Values of the hue keys.
    style : tuple
        Values of the style keys.
    hue_text : str
        Display text of the hue values.
    style_text : str
        Display text of the style values.
    runs : list
        The line's runs (records differing in their seed only).
    extra : dict, optional
        Anything a figure kind attaches to the line (default empty).
    """

    hue: tuple
    style: tuple
    hue_text: str
    style_text: str
    runs: list
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``"hue text, style text"`` (the parts that are not empty)."""
        return ", ".join(t for t in (self.hue_text, self.style_text) if t)


@dataclass
class Panel:
    """One axes: its row and column values, title and lines.

    The parameters are kept as attributes of the same names.

    Parameters
    ----------
    row : tuple
        Values of the row keys.
    col : tuple
        Values of the column keys.
    title : str
        The panel title (``"<row> · <col>"`` when both are set).
    lines : list of Line, optional
        The panel's lines (default empty).
    """

    row: tuple
    col: tuple
    title: str
    lines: list = field(default_factory=list)


def _display(keys, values, runs, labels, setting=True) -> str:
    """Display text of a value tuple: per key, the text all ``runs`` agree on (else without parameters)."""
    parts = []
    for k, v in zip(keys, values, strict=True):
        fn = labels.setting if setting else labels.value
        texts = {fn(k, v, _record(r)) for r in runs}
        parts.append(texts.pop() if len(texts) == 1 else fn(k, v, None))
    return ", ".join(parts)


def _vals(run, keys) -> tuple:
    return tuple(key_value(run, k, default=None) for k in keys)


def layout(records, roles: dict[str, tuple], labels) -> tuple[list[list[Panel]], list[tuple], list[tuple]]:
    """Panels (rows × cols) with their lines, plus the hue and style values in legend order.

    Parameters
    ----------
    records : list of dict
        Run records (each line's runs are those sharing every role's values).
    roles : dict
        Keys per role (:data:`ROLES`).
    labels : plots.labels.Labels
        Display names.
    """
    hk, sk, ck, rk = (roles[r] for r in ROLES)
    rows = ordered([_vals(r, rk) for r in records], rk)
    cols = ordered([_vals(r, ck) for r in records], ck)
    hues = ordered([_vals(r, hk) for r in records], hk)
    styles = ordered([_vals(r, sk) for r in records], sk)
    cells = group(records, (*rk, *ck, *hk, *sk)) if (rk or ck or hk or sk) else {(): list(records)}
    by_row = group(records, rk) if rk else {(): list(records)}
    by_col = group(records, ck) if ck else {(): list(records)}
    hue_runs = group(records, hk) if hk else {(): list(records)}
    style_runs = group(records, sk) if sk else {(): list(records)}
    hue_text = {h: _display(hk, h, hue_runs[h], labels, setting=False) if hk else "" for h in hues}
    style_text = {s: _display(sk, s, style_runs[s], labels) if sk else "" for s in styles}
    grid = []
    for rv in rows:
        prow = []
        for cv in cols:
            title = ", ".join(t for t in (_display(rk, rv, by_row[rv], labels) if rk else "",
                                          _display(ck, cv, by_col[cv], labels) if ck else "") if t)
            panel = Panel(rv, cv, title.replace(", ", " · ", 1) if rk and ck else title)
            for h in hues:
                for s in styles:
                    runs = cells.get((*rv, *cv, *h, *s))
                    if runs:
                        panel.lines.append(Line(h, s, hue_text[h], style_text[s], runs))
            prow.append(panel)
        grid.append(prow)
    return grid, hues, styles


def seeds_of(runs) -> list:
    """The seeds of ``runs`` (config ``seed``), in order."""
    return [key_value(r, "seed", default=None) for r in runs]


def seeds_range(lines) -> str:
    """``"3 seeds"`` or ``"2–3 seeds"`` over the lines' run counts."""
    ns = sorted({len(ln.runs) for ln in lines}) or [0]
    if ns[0] == ns[-1]:
        return f"{ns[0]} seed" if ns[0] == 1 else f"{ns[0]} seeds"
    return f"{ns[0]}–{ns[-1]} seeds"


def section_legend(fig, sections, title: str | None, n_cols: int, n_rows: int = 1, fontsize=None):
    """One figure legend in sections: ``sections`` = [(heading, [(handle, text), ...]), ...].

    Below the panels, each section a row headed by its bold heading, wrapped after
    max(3, 2·n_cols + 1) entries. Hue and style are separate sections, so the legend never lists
    their cross product.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    sections : list of tuple
        ``(heading, [(handle, text), ...])`` per section; empty sections are left out.
    title : str or None
        Legend title.
    n_cols : int
        Panel columns of the figure (sets the wrap width).
    n_rows : int, optional
        Panel rows (default 1; not used by the current layout).
    fontsize : str or float, optional
        Legend font size (default ``"small"``).

    Returns
    -------
    matplotlib.legend.Legend or None
        None when every section is empty.
    """
    from matplotlib.lines import Line2D

    sections = [(h, entries) for h, entries in sections if entries]
    if not sections:
        return None
    blank = Line2D([], [], linestyle="none", marker="none")
    below = True  # at the right of a one-column stack the legend squeezed the axes (seen on a figure)
    if below:
        width = max(3, 2 * n_cols + 1)
        rows = []
        for heading, entries in sections:
            for k in range(0, len(entries), width):
                rows.append([(blank, heading if k == 0 else ""), *entries[k:k + width]])
        ncol = max(len(r) for r in rows)
        rows = [r + [(blank, "")] * (ncol - len(r)) for r in rows]
        items = [rows[i][j] for j in range(ncol) for i in range(len(rows))]  # legends fill columns first
    else:
        ncol = 1
        items = [e for heading, entries in sections for e in [(blank, heading), *entries]]
    leg = fig.legend([h for h, _ in items], [t for _, t in items],
                     loc="outside lower center" if below else "outside right upper", ncol=ncol,
                     title=title, fontsize=fontsize or "small", title_fontsize=fontsize or "small",
                     frameon=False, handlelength=2.6, columnspacing=1.2)
    heads = {h for h, _ in sections}
    for txt in leg.get_texts():
        if txt.get_text() in heads:
            txt.set_fontweight("bold")
    return leg


def is_number(v: Any) -> bool:
    """True for a finite int or float (not a bool)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)
