"""Aggregator pipelines: pre-aggregators followed by one aggregator, e.g. ``"nnm+cwtm"``.

Grammar of a spec string (no ``eval``)::

    pipeline := stage ("+" stage)*           the last stage is an aggregator, the others pre-aggregators
    stage    := NAME | NAME "(" [arg ("," arg)*] ")"
    NAME     := a registered name (cwtm), an entry-point name, or an import path (mypkg.rules:MyAgg)
    arg      := [KEY "="] VALUE              positional values fill the constructor's parameters
                                             other than f, in order: "bucketing(2)" = "bucketing(s=2)"
    VALUE    := int | float | true | false | none | 'text' | "text" | bare text (e.g. start=zero)

A dict ``{"name": <spec>, **params}`` passes ``params`` to the final aggregator. Every stage gets
``f`` unless its own arguments set it. See :ref:`math-aggregators` for the stages and
:ref:`guide-own-components` for using your own class as a stage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from byzref.aggregators.base import AGGREGATORS, PRE_AGGREGATORS, Aggregator, PreAggregator
from byzref.errors import ConfigError, show
from byzref.registry import constructor_signature

__all__ = ["Pipeline", "build_aggregator", "parse_spec"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
#: a stage's name: a registered or entry-point name, or a user class's import path "pkg.mod:Class"
#: ('.' and ':' never occur in the pipeline syntax outside a stage's parentheses)
_STAGE = re.compile(rf"\s*({_NAME}(?::{_NAME})?)\s*(?:\((.*)\))?\s*\Z", re.S)
_INT = re.compile(r"[+-]?\d+\Z")
_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\Z")
_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)\Z", re.S)
_WORDS = {"true": True, "false": False, "none": None}
_FORM = "expected name or name(key=value, ...) stages joined by '+'"


def _split(text: str, sep: str) -> list[str]:
    """Split at ``sep`` outside parentheses and quotes."""
    parts, depth, quote, cur = [], 0, "", []
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise ConfigError(f"aggregator spec {text!r}: unbalanced ')'; {_FORM}")
        elif ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    if depth or quote:
        raise ConfigError(f"aggregator spec {text!r}: unbalanced parenthesis or quote; {_FORM}")
    parts.append("".join(cur))
    return parts


def _value(text: str, spec: str) -> Any:
    t = text.strip()
    if not t:
        raise ConfigError(f"aggregator spec {spec!r}: empty argument value; expected key=value or a value "
                          "between the commas")
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    if _INT.match(t):
        return int(t)
    if _FLOAT.match(t):
        return float(t)
    return _WORDS.get(t.lower(), t)


def parse_spec(spec: str) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """Parse a pipeline string into ``[(name, positional_args, keyword_args), ...]``.

    Follows the grammar in the module docstring; names are not looked up here.

    Parameters
    ----------
    spec : str
        A non-empty pipeline string, e.g. ``"bucketing(2)+cwtm(b=1)"``.

    Returns
    -------
    list of tuple
        One ``(name, args, kwargs)`` per stage, in order: the stage name, the positional values
        and the keyword values (ints, floats, booleans, None or strings).

    Raises
    ------
    byzref.errors.ConfigError
        On an empty spec, unbalanced parentheses or quotes, an unparsable stage, a parameter given
        twice or a positional value after a keyword.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"aggregator spec must be a non-empty string, got {show(spec)}; {_FORM}")
    stages = []
    for part in _split(spec, "+"):
        m = _STAGE.match(part)
        if not m:
            raise ConfigError(f"aggregator spec {spec!r}: cannot parse stage {part.strip()!r}; "
                              "expected name or name(key=value, ...)")
        name, body = m.group(1), m.group(2)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        if body is not None and body.strip():
            for arg in _split(body, ","):
                km = _KEY.match(arg)
                if km:
                    if km.group(1) in kwargs:
                        raise ConfigError(f"aggregator spec {spec!r}: {km.group(1)} given twice in {name}; "
                                          "allowed: each parameter once")
                    kwargs[km.group(1)] = _value(km.group(2), spec)
                elif kwargs:
                    raise ConfigError(f"aggregator spec {spec!r}: positional argument after keyword "
                                      f"arguments in {name}; allowed: positional values first")
                else:
                    args.append(_value(arg, spec))
        stages.append((name, args, kwargs))
    return stages


def _build_stage(registry, other, role: str, name, args, kwargs, f: int):
    if name not in registry and name in other:
        kind = "an aggregator" if role == "pre-aggregator" else "a pre-aggregator"
        raise ConfigError(f"{name!r} is {kind}; a pipeline is pre-aggregators followed by exactly "
                          f"one aggregator (valid {role} names: {', '.join(registry.names())})")
    cls = registry.get(name)  # unknown name: the registry's error lists the valid names
    if args:
        names = [p.name for p in constructor_signature(cls).parameters.values()
                 if p.name != "f" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if len(args) > len(names):
            raise ConfigError(f"{role} {name!r} takes at most {len(names)} positional argument(s) "
                              f"({', '.join(names)}), got {len(args)}; allowed: at most {len(names)}")
        for key, val in zip(names, args, strict=False):
            if key in kwargs:
                raise ConfigError(f"{role} {name!r}: {key} given both by position and by name; allowed: "
                                  "one of the two")
            kwargs[key] = val
    return registry.build({"name": name, **kwargs}, f=f)


class Pipeline(Aggregator):
    """Pre-aggregators followed by an aggregator: Agg(P_k(…P_1(X))). Registered under no name.

    ``evaluate``/``__call__`` apply the pre-aggregators in order (each gets the rng) and then the
    final rule; ``check(n)`` validates every stage with the number of rows it will see (after
    bucketing(s) the next stage sees ⌈n/s⌉ rows, with the same f) and says so in its message;
    ``check_dim(d)`` asks every stage. State (cclip) lives in the final stage. Usually built by
    :func:`build_aggregator` from a spec such as ``"nnm+cwtm"``. A pipeline has no compiled
    kernel of its own.

    Parameters
    ----------
    pre : list of byzref.aggregators.base.PreAggregator
        The pre-aggregators, applied in order (may be empty).
    final : byzref.aggregators.base.Aggregator
        The aggregator applied last.
    f : int, default 0
        Declared Byzantine count (each stage was built with its own f; this one is the
        pipeline's).
    """

    def __init__(self, pre: list[PreAggregator], final: Aggregator, f: int = 0):
        super().__init__(f)
        self.pre = list(pre)
        self.final = final
        self.name = "+".join([*(_stage_str(p) for p in self.pre), _stage_str(final)])
        self.random = final.random or any(p.random for p in self.pre)
        self.stateful = final.stateful
        self.needs_f_lt_half = final.needs_f_lt_half

    def params(self) -> dict[str, Any]:
        """The stages' names and parameters.

        Returns
        -------
        dict
            ``{"stages": [{"name": ..., **params}, ...]}``, pre-aggregators first.
        """
        return {"stages": [{"name": s.name, **s.params()} for s in (*self.pre, self.final)]}

    def kappa(self, n: int) -> float | None:
        """No κ is declared for a pipeline.

        Parameters
        ----------
        n : int
            Number of input rows.

        Returns
        -------
        None
            Always.
        """
        return None

    def memory(self, n: int, d: int) -> float:
        """The stages' estimates added up, each at the number of rows it sees (a bound on the peak).

        Parameters
        ----------
        n : int
            Number of input rows.
        d : int
            Row length.

        Returns
        -------
        float
            Estimated peak bytes beyond the input.
        """
        total = 0.0
        for stage in (*self.pre, self.final):
            total += stage.memory(n, d)
            n = stage.out_rows(n) if stage is not self.final else n
        return total

    def check(self, n: int) -> None:
        """Validate every stage with the number of rows it sees; the message says how they arose.

        Parameters
        ----------
        n : int
            Number of input rows.

        Raises
        ------
        byzref.errors.ConfigError
            When a parameter does not fit n (the message gives the allowed range).
        """
        n_in, made_by = n, []
        for stage in (*self.pre, self.final):
            try:
                stage.check(n)
            except ConfigError as exc:
                if not made_by:
                    raise
                how = " then ".join(made_by)
                raise ConfigError(f"{exc} ({stage.name} sees the {n} rows that {how} makes of the "
                                  f"n = {n_in} inputs)", field=getattr(exc, "field", None)) from None
            if stage is not self.final and stage.out_rows(n) != n:
                made_by.append(_stage_str(stage))
            n = stage.out_rows(n) if stage is not self.final else n

    def check_dim(self, d: int) -> None:
        """Validate every stage against the row length d.

        Parameters
        ----------
        d : int
            Row length (the problem dimension).

        Raises
        ------
        byzref.errors.ConfigError
            When a stage does not accept d.
        """
        for stage in (*self.pre, self.final):
            stage.check_dim(d)

    def _aggregate(self, X, rng):
        for p in self.pre:
            X = p._apply(X, rng)
        return self.final._aggregate(X, rng)

    def _commit(self, out) -> None:
        self.final._commit(out)

    def reset(self) -> None:
        """Reset the final stage (the only one that can hold state)."""
        self.final.reset()


def _stage_str(stage) -> str:
    args = ", ".join(f"{k}={v}" for k, v in stage.params().items() if k != "f" and v is not None
                     and not hasattr(v, "shape"))
    return f"{stage.name}({args})" if args else stage.name


def build_aggregator(spec: str | Mapping[str, Any], f: int = 0) -> Aggregator:
    """Build an aggregator or a :class:`Pipeline` from a spec string or ``{"name": spec, **params}``.

    A single stage returns the plain registered aggregator; pre-aggregator stages give a Pipeline.
    Unknown stage names raise the registry's error, which lists the valid names.

    Parameters
    ----------
    spec : str or Mapping
        A pipeline string (grammar in the module docstring), or a mapping with a ``"name"`` key
        holding one; the mapping's other keys are parameters of the final aggregator.
    f : int, default 0
        Declared Byzantine count, passed to every stage unless its own arguments set it.

    Returns
    -------
    byzref.aggregators.base.Aggregator
        The aggregator, or a :class:`Pipeline` when there are pre-aggregator stages.

    Raises
    ------
    byzref.errors.ConfigError
        On a malformed spec, an unknown name, a stage in the wrong role, a parameter set twice or
        a value out of range.

    Examples
    --------
    >>> from byzref.aggregators import build_aggregator
    >>> build_aggregator("bucketing(2)+cwtm", f=1).name
    'bucketing(s=2)+cwtm'
    """
    if isinstance(spec, Mapping):
        if "name" not in spec:
            raise ConfigError(f"aggregator config {show(dict(spec))} has no 'name' field; expected "
                              "{name = \"<spec>\", ...}")
        extra = {k: v for k, v in spec.items() if k != "name"}
        stages = parse_spec(spec["name"])
        clash = sorted(set(extra) & set(stages[-1][2]))
        if clash:
            raise ConfigError(f"aggregator config sets {', '.join(clash)} both in 'name' and as fields; "
                              "allowed: one of the two")
        stages[-1][2].update(extra)
    else:
        stages = parse_spec(spec)
    *pre_specs, (name, args, kwargs) = stages
    pre = [_build_stage(PRE_AGGREGATORS, AGGREGATORS, "pre-aggregator", *s, f=f) for s in pre_specs]
    final = _build_stage(AGGREGATORS, PRE_AGGREGATORS, "aggregator", name, args, kwargs, f=f)
    return Pipeline(pre, final, f=f) if pre else final
