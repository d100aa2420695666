"""Display names for figures: methods, aggregators, attacks, compressors and config keys, user-overridable.

Every label a figure shows goes through a :class:`Labels` table, so internal names (``byz_dm21``,
``nnm+cwtm``, ``sign_flip``) never reach a legend or a title:

* values of a component key: ``Labels.value("attack", "sign_flip")`` is ``"SF"``; an aggregator
  pipeline is spelled stage by stage (``"nnm+cwtm"`` → ``"NNM + CWTM"``); a compressor shows its
  parameter when the run record is given (``"Top-k (k=10)"``);
* the method: the algorithm's paper name and the compressor (``"Byz-DM21, Top-k (k=10)"``; identity
  left out);
* keys: ``Labels.key("algorithm.gamma")`` is ``"γ"``; a numeric value of such a key reads
  ``"γ = 0.05"`` (:meth:`Labels.setting`).

Overrides (``--labels FILE.toml``, ``--label NAME=Display``): a TOML file of tables named by category
(``[algorithm]``, ``[aggregator]``, ``[attack]``, ``[compressor]``, ``[problem]``, ``[method]``,
``[key]``) mapping internal names to display names, plus top-level ``name = "Display"`` entries that
apply in every category; ``--label attack.alie=ALIE*`` scopes an entry to a category,
``--label byz_dm21=Ours`` does not. A ``[method]`` entry is keyed by the method's display name or by
the algorithm's internal name and replaces the whole method label.
"""

from __future__ import annotations

import math
import os
from typing import Any

from byzref.errors import ConfigError
from byzref.select import DISPLAY_NAMES

__all__ = ["CATEGORIES", "DEFAULTS", "KEY_NAMES", "Labels", "load_labels", "tex_escape"]

#: the categories of the label table (also the sections of a --labels file).
CATEGORIES = ("algorithm", "aggregator", "attack", "compressor", "problem", "method", "key")

#: default display names per category (the paper's spellings).
DEFAULTS: dict[str, dict[str, str]] = {
    "algorithm": {**DISPLAY_NAMES, "robust_momentum_sgd": "Robust momentum SGD", "dm21": "DM21",
                  "ef21_sgdm": "EF21-SGDM", "ef21": "EF21"},
    "aggregator": {"mean": "Mean", "cwtm": "CWTM", "cwmed": "CWMed", "gm": "GM", "krum": "Krum",
                   "multikrum": "Multi-Krum", "cclip": "CClip", "meamed": "MeaMed", "nnm": "NNM",
                   "bucketing": "Bucketing"},
    "attack": {"alie": "ALIE", "ipm": "IPM", "sign_flip": "SF", "label_flip": "LF", "bit_flip": "BF",
               "gaussian": "Gaussian", "mimic": "Mimic", "none": "no attack", "nonfinite": "non-finite",
               "adaptive_alie": "adaptive ALIE", "adaptive_ipm": "adaptive IPM"},
    "compressor": {"identity": "no compression", "top_k": "Top-k", "rand_k": "Rand-k",
                   "rand_k_biased": "biased Rand-k", "natural": "natural", "qsgd": "QSGD",
                   "scaled_sign": "scaled sign"},
    "problem": {"quadratic": "quadratic", "nonconvex_synthetic": "non-convex synthetic",
                "logreg_nonconvex": "logistic regression (non-convex reg.)",
                "logreg_l2": "logistic regression (ℓ2)", "least_squares": "least squares"},
    "method": {},
    "key": {},
}

#: display names of keys (facet titles, legend titles); the second entry is the LaTeX form (--usetex).
KEY_NAMES: dict[str, tuple[str, str]] = {
    "method": ("method", "method"), "algorithm": ("algorithm", "algorithm"),
    "aggregator": ("aggregator", "aggregator"), "attack": ("attack", "attack"),
    "compressor": ("compressor", "compressor"), "problem": ("problem", "problem"),
    "algorithm.gamma": ("γ", r"$\gamma$"), "algorithm.eta": ("η", r"$\eta$"),
    "algorithm.p": ("p", "$p$"), "algorithm.batch": ("batch", "batch"), "T": ("T", "$T$"),
    "n": ("n", "$n$"), "f": ("f", "$f$"), "seed": ("seed", "seed"), "compressor.k": ("k", "$k$"),
    "problem.d": ("d", "$d$"), "status": ("status", "status"),
    # curves (axis labels)
    "iteration": ("iteration t", "iteration $t$"), "bits_up": ("bits sent per worker",
                                                              "bits sent per worker"),
    "bits_down": ("bits received per worker", "bits received per worker"),
    "grad_sq": ("‖∇f(xᵗ)‖²", r"$\|\nabla f(x^t)\|^2$"),
    "grad_sq_avg": ("running average of ‖∇f(xˢ)‖², s ≤ t", r"$\frac{1}{t}\sum_{s<t}\|\nabla f(x^s)\|^2$"),
    "f_gap": ("f(xᵗ) − f*", r"$f(x^t) - f^*$"), "dist": ("‖xᵗ − x*‖", r"$\|x^t - x^*\|$"),
    "agg_err": ("aggregation error ‖eᵗ‖²", r"aggregation error $\|e^t\|^2$"),
    "avg_grad_sq": ("(1/T) Σ ‖∇f(xᵗ)‖²", r"$\frac{1}{T}\sum_{t<T}\|\nabla f(x^t)\|^2$"),
    "final_grad_sq": ("‖∇f(x^T)‖²", r"$\|\nabla f(x^T)\|^2$"),
    "final_f_gap": ("f(x^T) − f*", r"$f(x^T) - f^*$"),
}

_COMPRESSOR_PARAMS = {"top_k": "k", "rand_k": "k", "rand_k_biased": "k", "qsgd": "s"}
_TEX = {"\\": r"\textbackslash{}", "_": r"\_", "%": r"\%", "&": r"\&", "#": r"\#", "$": r"\$",
        "{": r"\{", "}": r"\}", "^": r"\^{}", "~": r"\~{}"}


def tex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (for labels drawn with ``--usetex``).

    Parameters
    ----------
    text : str
        Any text (converted with ``str``).

    Returns
    -------
    str
        With the backslash and ``_ % & # $ { } ^ ~`` escaped.
    """
    return "".join(_TEX.get(ch, ch) for ch in str(text))


def _num(v) -> str:
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, float):
        return "∞" if math.isinf(v) else format(v, "g")
    return str(v)


class Labels:
    """The display names used by one figure.

    Parameters
    ----------
    overrides : dict, optional
        ``{category: {internal: display}}``; the category ``""`` applies to every category.
    usetex : bool
        Give LaTeX-safe labels (special characters escaped, key names as math).
    """

    def __init__(self, overrides: dict | None = None, usetex: bool = False):
        self.usetex = bool(usetex)
        self.table = {c: dict(DEFAULTS[c]) for c in CATEGORIES}
        self.anywhere: dict[str, str] = {}
        self.overridden: set[tuple[str, str]] = set()
        for cat, entries in (overrides or {}).items():
            if cat == "":
                self.anywhere.update({str(k): str(v) for k, v in entries.items()})
            else:
                self.table.setdefault(cat, {}).update({str(k): str(v) for k, v in entries.items()})
                self.overridden.update((cat, str(k)) for k in entries)

    def _text(self, s: str) -> str:
        return tex_escape(s) if self.usetex else s

    def _lookup(self, category: str, name: str) -> str | None:
        # a scoped override, then an unscoped one, then the built-in display name
        if (category, name) in self.overridden:
            return self.table[category][name]
        if name in self.anywhere:
            return self.anywhere[name]
        return self.table.get(category, {}).get(name)

    def key(self, key: str) -> str:
        """Display name of a key (``"algorithm.gamma"`` → ``"γ"``; unknown: its last dotted part).

        Parameters
        ----------
        key : str
            A key (:func:`byzref.select.key_value`) or a curve or metric name.

        Returns
        -------
        str
            An override of category ``key`` first, then :data:`KEY_NAMES`.
        """
        found = self._lookup("key", key)
        if found is not None:
            return self._text(found)
        if key in KEY_NAMES:
            return KEY_NAMES[key][1 if self.usetex else 0]
        return self._text(key[: -len(".name")] if key.endswith(".name") else key.rsplit(".", 1)[-1])

    def component(self, category: str, name: str) -> str:
        """Display name of a component (an aggregator pipeline stage by stage: ``"NNM + CWTM"``).

        Parameters
        ----------
        category : str
            One of :data:`CATEGORIES`.
        name : str
            The component's registered name.

        Returns
        -------
        str
            The override or default display name; an unknown name as it is.
        """
        name = str(name)
        found = self._lookup(category, name)
        if found is not None:
            return self._text(found)
        if category == "aggregator" and "+" in name:
            return " + ".join(self.component(category, part) for part in name.split("+"))
        return self._text(name)

    def compressor(self, record: dict | None, name: str) -> str:
        """``"Top-k (k=10)"``: the compressor's display name and its size parameter (when known).

        Parameters
        ----------
        record : dict or None
            The run record whose ``config.compressor`` gives the parameter (k, or s for QSGD);
            None: no parameter.
        name : str
            The compressor's registered name.

        Returns
        -------
        str
            The parameter is left out when the name was overridden.
        """
        base = self.component("compressor", name)
        param = _COMPRESSOR_PARAMS.get(str(name))
        comp = (record or {}).get("config", {}).get("compressor", {}) if isinstance(record, dict) else {}
        mine = ("compressor", str(name)) in self.overridden or str(name) in self.anywhere
        if param and param in comp and not mine:
            v = comp[param]
            return f"{base} (${param}={_num(v)}$)" if self.usetex else f"{base} ({param}={_num(v)})"
        return base

    def method(self, record: dict) -> str:
        """The method label of a run record: ``"Byz-DM21, Top-k (k=10)"`` (identity compressor left out).

        Parameters
        ----------
        record : dict
            A run record (``config`` is read).

        Returns
        -------
        str
            A ``[method]`` override (by this label or by the algorithm's name) replaces it whole.
        """
        cfg = record["config"]
        alg = cfg["algorithm"]["name"]
        comp = cfg.get("compressor", {}).get("name", "identity")
        name = self.component("algorithm", alg)
        label = name if comp == "identity" else f"{name}, {self.compressor(record, comp)}"
        for k in (label, alg):
            found = self.table["method"].get(k)
            if found is not None:
                return self._text(found)
        return label

    def value(self, key: str, value: Any, record: dict | None = None) -> str:
        """Display form of ``value`` of ``key`` alone (``"ALIE"``, ``"NNM + CWTM"``, ``"0.05"``).

        Parameters
        ----------
        key : str
            The key the value belongs to.
        value : object
            The value.
        record : dict or None, optional
            The run record, needed for ``"method"`` and a compressor's parameter (default None).

        Returns
        -------
        str
        """
        if key == "method" and record is not None:
            return self.method(record)
        cat = key[: -len(".name")] if key.endswith(".name") else key
        if cat == "compressor":
            return self.compressor(record, value)
        if cat in CATEGORIES:
            return self.component(cat, value)
        return self._text(_num(value))

    def setting(self, key: str, value: Any, record: dict | None = None) -> str:
        """``value`` with its key unless the value says what it is: ``"γ = 0.05"``, ``"ALIE"``.

        Parameters
        ----------
        key : str
            The key the value belongs to.
        value : object
            The value.
        record : dict or None, optional
            The run record (as for :meth:`value`).

        Returns
        -------
        str
        """
        cat = key[: -len(".name")] if key.endswith(".name") else key
        if key == "method" or cat in CATEGORIES:
            return self.value(key, value, record)
        return f"{self.key(key)} = {self.value(key, value, record)}"


def _parse_label_item(item: str) -> tuple[str, str, str]:
    if "=" not in item:
        raise ConfigError(f"--label {item!r} has no '='; expected NAME=Display or CATEGORY.NAME=Display, "
                          "e.g. --label alie=ALIE or --label key.algorithm.gamma='step size'")
    name, display = (s.strip() for s in item.split("=", 1))
    if not name or not display:
        raise ConfigError(f"--label {item!r}: the name and the display text must not be empty")
    head, _, rest = name.partition(".")
    if rest and head in CATEGORIES:
        return head, rest, display
    return "", name, display


def load_labels(path: str | os.PathLike | None = None, items=(), usetex: bool = False) -> Labels:
    """A :class:`Labels` table from a ``--labels`` TOML file and ``--label NAME=Display`` items.

    Parameters
    ----------
    path : path, optional
        TOML file: tables named by category (``[attack] alie = "ALIE"``) and top-level string entries.
    items : iterable of str
        ``NAME=Display`` or ``CATEGORY.NAME=Display`` (applied after the file).
    usetex : bool
        LaTeX-safe labels.
    """
    import tomllib

    overrides: dict[str, dict[str, str]] = {}
    if path is not None:
        p = str(path)
        try:
            with open(p, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"--labels {p!r} does not exist; expected a TOML file of display "
                              "names") from None
        except IsADirectoryError:
            raise ConfigError(f"--labels {p!r} is a directory; expected a TOML file of display "
                              "names") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"--labels {p!r} cannot be read ({type(exc).__name__})") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"--labels {p!r} is not valid TOML: {exc}") from None
        for k, v in data.items():
            if isinstance(v, dict):
                if k not in CATEGORIES:
                    raise ConfigError(f"--labels {p!r}: unknown table [{k}]; tables: {', '.join(CATEGORIES)}")
                for name, disp in v.items():
                    if not isinstance(disp, str):
                        raise ConfigError(f"--labels {p!r}: [{k}] {name} must be a string, got {disp!r}")
                    overrides.setdefault(k, {})[name] = disp
            elif isinstance(v, str):
                overrides.setdefault("", {})[k] = v
            else:
                raise ConfigError(f"--labels {p!r}: {k} must be a string or a table, got {v!r}")
    for item in items or ():
        cat, name, display = _parse_label_item(str(item))
        overrides.setdefault(cat, {})[name] = display
    return Labels(overrides, usetex=usetex)

