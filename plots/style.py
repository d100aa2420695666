"""One consistent look per method: colour and marker by algorithm name, linestyle by compressor.

``style_for(label)`` finds the algorithm (and compressor) names among the label's tokens, so labels such
as ``"byz_dm21"``, ``"byz_dm21/top_k"`` or ``"byz_vr_dm21 (nnm+cwtm, alie)"`` all get the colour and
marker of their method. A label naming no known method gets a colour and marker from a fallback cycle
(chosen by its position ``index`` when given, else by a stable hash of the label), so the same label
always looks the same across figures; ``styles_for(labels)`` also keeps such labels apart within one
axes. The method names are those of SPEC §4 (Byz-DM21 and Byz-VR-DM21
of Li, Liu, Yi, arXiv:2603.15144, and the baselines of §4.3).
"""

from __future__ import annotations

import re
import zlib

__all__ = ["COMPRESSOR_LINESTYLES", "FALLBACK", "METHOD_STYLES", "style_for", "styles_for"]

#: colour (matplotlib tab10 / tab20 hex) and marker per algorithm name (SPEC §4).
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

#: linestyle per compressor name (SPEC §2); labels without a compressor name get solid lines.
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

    The first token of ``label`` that is a method name of :data:`METHOD_STYLES` fixes colour and
    marker (tokens: hyphens read as ``_``, so "Byz-VR-DM21" is ``byz_vr_dm21``; split at anything
    but letters, digits and ``_``; compared in lower case). The first compressor name of
    :data:`COMPRESSOR_LINESTYLES` among the tokens fixes the linestyle (default solid). Without a
    method name, :data:`FALLBACK` ``[index % 8]`` is used, or the entry chosen by a CRC-32 of the
    label when ``index`` is None (stable across runs and machines).
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
