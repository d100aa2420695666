"""One consistent look per method: colour and marker by algorithm name, linestyle by compressor.

``style_for(label)`` finds the algorithm (and compressor) names among the label's tokens, so labels such
as ``"byz_dm21"``, ``"byz_dm21/top_k"`` or ``"byz_vr_dm21 (nnm+cwtm, alie)"`` all get the colour and
marker of their method. A label naming no known method gets a colour and marker from a fallback cycle
(chosen by its position ``index`` when given, else by a stable hash of the label), so the same label
always looks the same across figures; ``styles_for(labels)`` also keeps such labels apart within one
axes. The method names are those of the papers (Byz-DM21 and Byz-VR-DM21
of Li, Liu, Yi, arXiv:2603.15144, and its baselines).
"""

from __future__ import annotations

import re
import zlib

__all__ = ["COMPRESSOR_LINESTYLES", "FALLBACK", "HUE_COLORS", "LINESTYLES", "MARKERS", "METHOD_STYLES",
           "hue_styles", "paper_rc", "style_for", "styles_for"]

#: colour (matplotlib tab10 / tab20 hex) and marker per algorithm name.
METHOD_STYLES: dict[str, dict[str, str]] = {
    "byz_dm21": {"color": "#d62728", "marker": "o"},
    "byz_vr_dm21": {"color": "#1f77b4", "marker": "s"},
    "byz_ef21_sgdm": {"color": "#2ca02c", "marker": "^"},
    "byz_ef21_sgd": {"color": "#006400", "marker": "<"},
    "byz_ef21": {"color": "#ff7f0e", "marker": "v"},
    "byz_vr_marina": {"color": "#9467bd", "marker": "D"},
    "byz_dasha_page": {"color": "#8c564b", "marker": "P"},
    "robust_momentum_sgd": {"color": "#e377c2", "marker": "X"},
    "br_csgd": {"color": "#7f7f7f", "marker": "h"},
    "br_diana": {"color": "#bcbd22", "marker": "*"},
    # non-Byzantine presets: a lighter shade of their Byzantine method
    "dm21": {"color": "#ff9896", "marker": "o"},
    "ef21_sgdm": {"color": "#98df8a", "marker": "^"},
    "ef21": {"color": "#ffbb78", "marker": "v"},
}

#: linestyle per compressor name; labels without a compressor name get solid lines.
COMPRESSOR_LINESTYLES: dict[str, object] = {
    "identity": "-",
    "top_k": "--",
    "rand_k": ":",
    "rand_k_biased": (0, (3, 1, 1, 1)),
    "natural": "-.",
    "qsgd": (0, (5, 2)),
    "scaled_sign": (0, (1, 2)),
}

#: fallback cycle for labels naming no known method (colours not used in METHOD_STYLES).
FALLBACK: tuple[dict[str, str], ...] = (
    {"color": "#17becf", "marker": "o"},
    {"color": "#393b79", "marker": "s"},
    {"color": "#637939", "marker": "^"},
    {"color": "#8c6d31", "marker": "v"},
    {"color": "#843c39", "marker": "D"},
    {"color": "#7b4173", "marker": "P"},
    {"color": "#000000", "marker": "X"},
    {"color": "#9edae5", "marker": "h"},
)

_TOKEN = re.compile(r"[A-Za-z0-9_]+")


def style_for(label: str, index: int | None = None) -> dict[str, object]:
    """Matplotlib keyword arguments ``{"color", "marker", "linestyle"}`` for a curve labelled ``label``.

    The first token of ``label`` that is a method name of :data:`plots.style.METHOD_STYLES` fixes
    colour and marker (tokens: hyphens read as ``_``, so "Byz-VR-DM21" is ``byz_vr_dm21``; split at
    anything but letters, digits and ``_``; compared in lower case). The first compressor name of
    :data:`plots.style.COMPRESSOR_LINESTYLES` among the tokens fixes the linestyle (default solid).
    Without a method name, :data:`plots.style.FALLBACK` ``[index % 8]`` is used, or the entry chosen
    by a CRC-32 of the label when ``index`` is None (stable across runs and machines).

    Parameters
    ----------
    label : str
        The curve's label (a method label, a run label, anything).
    index : int or None, optional
        Position of the curve, used only when the label names no method (default None: hash).

    Returns
    -------
    dict
        ``{"color": hex str, "marker": str, "linestyle": str or dash tuple}``.
    """
    tokens = [t.lower() for t in _TOKEN.findall(str(label).replace("-", "_"))]
    method = next((METHOD_STYLES[t] for t in tokens if t in METHOD_STYLES), None)
    if method is None:
        k = index if index is not None else zlib.crc32(str(label).encode())
        method = FALLBACK[k % len(FALLBACK)]
    ls = next((COMPRESSOR_LINESTYLES[t] for t in tokens if t in COMPRESSOR_LINESTYLES), "-")
    return {"color": method["color"], "marker": method["marker"], "linestyle": ls}


def styles_for(labels) -> list[dict[str, object]]:
    """``style_for`` of each label, with fallback colours made distinct within the list.

    Known methods keep their fixed style. A label naming no method starts from its hashed fallback
    entry and moves to the next entry not yet used in this list (while any is left), so up to
    ``len(FALLBACK)`` unknown labels on one axes never share a colour. Equal labels share a style.

    Parameters
    ----------
    labels : iterable of str
        The labels of one axes, in drawing order.

    Returns
    -------
    list of dict
        One :func:`style_for` dict per label.
    """
    out, used, seen = [], set(), {}
    for lab in labels:
        if lab in seen:
            out.append(dict(seen[lab]))
            continue
        st = style_for(lab)
        if st["color"] not in {m["color"] for m in METHOD_STYLES.values()}:
            k = zlib.crc32(str(lab).encode())
            for j in range(len(FALLBACK)):
                if (k + j) % len(FALLBACK) not in used:
                    k = k + j
                    break
            used.add(k % len(FALLBACK))
            st = {**style_for(lab, index=k), "linestyle": st["linestyle"]}
        seen[lab] = st
        out.append(dict(st))
    return out


#: colours for hue values that are not methods (tab10, then the darker fallbacks).
HUE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
              "#bcbd22", "#17becf", *(f["color"] for f in FALLBACK))
#: linestyles for the values of a --style key, in order (distinguishable in print).
LINESTYLES: tuple = ("-", "--", ":", "-.", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)),
                     (0, (3, 3, 1, 3)))
#: markers for hue values that are not methods.
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "h", "*", "<", ">", "p")


def hue_styles(values, algorithms=None) -> list[dict[str, str]]:
    """Colour and marker per hue value, all distinct within the list.

    ``algorithms[i]``: the algorithm name behind ``values[i]`` when the hue is the method (then the
    method's own colour and marker of :data:`METHOD_STYLES` are used while no earlier value took them);
    other values take the next unused colour of :data:`HUE_COLORS`.

    Parameters
    ----------
    values : sequence
        The hue values, in legend order.
    algorithms : sequence of str, optional
        Algorithm name per value (None entries: not a method).

    Returns
    -------
    list of dict
        ``{"color", "marker"}`` per value.
    """
    values = list(values)
    algorithms = list(algorithms) if algorithms is not None else [None] * len(values)
    out, used = [], set()
    for alg in algorithms:
        st = METHOD_STYLES.get(str(alg)) if alg is not None else None
        if st is not None and st["color"] not in used:
            out.append({"color": st["color"], "marker": st["marker"]})
            used.add(st["color"])
        else:
            out.append(None)
    k = 0
    for i, st in enumerate(out):
        if st is None:
            free = [c for c in HUE_COLORS if c not in used] or list(HUE_COLORS)
            color = free[0]
            used.add(color)
            out[i] = {"color": color, "marker": MARKERS[k % len(MARKERS)]}
            k += 1
    return out


def paper_rc(font_size: float | None = None, usetex: bool = False) -> dict:
    """matplotlib rcParams for paper figures: Type 42 (TrueType) fonts in PDF/PS, optional size and LaTeX.

    Use as ``with matplotlib.rc_context(paper_rc(...)):`` around drawing AND saving (font sizes are
    read when text is made, font types when the file is written); nothing is set globally.

    Parameters
    ----------
    font_size : float, optional
        Base font size in points (legend, tick and title sizes follow it).
    usetex : bool
        Typeset text with LaTeX (``text.usetex``); default False.

    Returns
    -------
    dict
        rcParams for ``matplotlib.rc_context``.
    """
    rc = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path", "pgf.rcfonts": False}
    if font_size is not None:
        rc["font.size"] = float(font_size)
    if usetex:
        rc["text.usetex"] = True
        rc["font.family"] = "serif"
    return rc
