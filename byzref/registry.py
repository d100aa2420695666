"""Name → component registries, one per family (DESIGN.md "Components").

A component is a class registered under a name with ``@REGISTRY.register("name")``; a config
names it by string plus parameters, ``{"name": "top_k", "k": 10}``. Every failure is a one-line
:class:`~byzref.errors.ConfigError`: unknown names list the valid names and the closest match;
unknown parameters list the accepted ones; a missing required parameter is named with its range
(from the class attribute ``param_ranges``, a dict name → description) and an example built from
the class's ``test_config``; a value a constructor refuses keeps the validator's message (which
starts with the field name) followed by the component, e.g. "eta = 1.5 is outside the allowed
range (0, 1] (algorithm 'byz_dm21')"; a stray TypeError/ValueError from a constructor becomes a
ConfigError naming the parameter.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from byzref.errors import ConfigError, show

__all__ = ["Registry", "UnknownNameError", "param_ranges"]


class UnknownNameError(ConfigError, KeyError):
    """A component name is not registered; the message lists the valid names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class Registry:
    """A mapping from component names to classes (or factories) for one family.

    Parameters
    ----------
    family : str
        Human-readable family name used in error messages ("compressor", "aggregator", ...).
    """

    def __init__(self, family: str):
        self.family = family
        self._entries: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[Any], Any]:
        """Class decorator registering ``cls`` under ``name`` (and setting ``cls.name``)."""

        def deco(cls):
            if name in self._entries:
                raise ValueError(f"{self.family} {name!r} is registered twice")
            self._entries[name] = cls
            try:
                cls.name = name
            except (AttributeError, TypeError):  # plain functions may refuse; fine
                pass
            return cls

        return deco

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self):
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, name: str):
        """Return the class registered as ``name`` or raise :class:`UnknownNameError`."""
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            pass
        valid = self.names()
        close = difflib.get_close_matches(str(name), valid, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(
            f"unknown {self.family} {show(name)}{hint} Valid {self.family} names: {', '.join(valid)}"
        ) from None

    def build(self, config: str | Mapping[str, Any], **context: Any):
        """Instantiate a component from ``"name"`` or ``{"name": ..., **params}``; raise ConfigError.

        ``context`` holds keyword arguments supplied by the caller rather than the user (for
        instance ``f`` for an aggregator); they are passed only if the constructor accepts them
        and the config does not set them itself.
        """
        if isinstance(config, str):
            name, params = config, {}
        elif isinstance(config, Mapping):
            if "name" not in config:
                raise ConfigError(f"{self.family} config {show(dict(config))} has no 'name' field; "
                                  f"valid names: {', '.join(self.names())}")
            params = {k: v for k, v in config.items() if k != "name"}
            name = config["name"]
        else:
            raise ConfigError(
                f"{self.family} config must be a name or a dict with 'name', got {show(config)}; "
                f"valid names: {', '.join(self.names())}"
            )
        cls = self.get(name)
        accepted = _accepted_params(cls)
        unknown = sorted(set(params) - accepted) if accepted is not None else []
        if unknown:
            close = difflib.get_close_matches(unknown[0], sorted(accepted), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{self.family} {name!r} got unknown parameter(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(sorted(accepted)) or '(none)'} (use one of these{hint})"
            )
        given = dict(params)
        for key, value in context.items():
            if key not in params and (accepted is None or key in accepted):
                params[key] = value
        missing = _missing_params(cls, params)
        if missing:
            raise ConfigError(self._missing_message(name, cls, missing, accepted))
        try:
            return cls(**params)
        except UnknownNameError:
            raise
        except ConfigError as exc:
            where = f"({self.family} {name!r})"
            if where in str(exc):
                raise
            raise ConfigError(f"{exc} {where}", field=getattr(exc, "field", None)) from None
        except (TypeError, ValueError) as exc:  # a check the constructor lacks: name the field anyway
            raise ConfigError(self._stray_message(name, cls, given, exc)) from None

    def _missing_message(self, name, cls, missing, accepted) -> str:
        ranges = param_ranges(cls)
        parts = [f"{p!r}" + (f" ({ranges[p]})" if p in ranges else "") for p in missing]
        what = "parameter " + parts[0] if len(parts) == 1 else "parameters " + ", ".join(parts)
        example = {"name": name}
        for key, value in getattr(cls, "test_config", {}).items():
            if key in missing:
                example[key] = value
        hint = (f"; e.g. {_inline_table(example)}" if len(example) > 1 else "")
        acc = f"; accepted: {', '.join(sorted(accepted))}" if accepted is not None else ""
        return f"{self.family} {name!r} needs {what}{hint}{acc}"

    def _stray_message(self, name, cls, given, exc) -> str:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        hits = [k for k in given if re.search(rf"\b{re.escape(k)}\b", detail)]
        keys = hits[:1] or list(given)
        ranges = param_ranges(cls)
        if len(keys) == 1:
            key = keys[0]
            allowed = ranges.get(key, "see the component's documentation")
            return (f"{key} = {show(given[key])} is not allowed ({detail}); allowed: {allowed} "
                    f"({self.family} {name!r})")
        shown = ", ".join(f"{k} = {show(given[k])}" for k in keys) or "(none)"
        return (f"{self.family} {name!r} refused its parameters {shown} ({detail}); "
                f"allowed: see the documentation of {self.family} {name!r}")


def param_ranges(cls) -> dict[str, str]:
    """The ``param_ranges`` descriptions of ``cls`` merged over its base classes (subclass wins)."""
    out: dict[str, str] = {}
    for klass in reversed(getattr(cls, "__mro__", (cls,))):
        out.update(vars(klass).get("param_ranges", {}))
    return out


def _inline_table(values: Mapping[str, Any]) -> str:
    """``{name = "top_k", k = 2}``: a TOML inline table of plain values."""

    def fmt(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return show(v)

    return "{" + ", ".join(f"{k} = {fmt(v)}" for k, v in values.items()) + "}"


def _missing_params(cls, params: Mapping[str, Any]) -> list[str]:
    """Required constructor parameters (no default) that ``params`` does not set, in order."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    return [p.name for p in sig.parameters.values()
            if p.default is inspect.Parameter.empty and p.name not in params
            and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]


def _accepted_params(cls) -> set[str] | None:
    """Keyword parameters of ``cls``'s constructor, or None when it takes ``**kwargs``."""
    try:
        sig = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    out = set()
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            out.add(p.name)
    return out
