"""Name → component registries, one per family (DESIGN.md "Components").

A component is a class registered under a name with ``@REGISTRY.register("name")``; a config
names it by string plus parameters, ``{"name": "top_k", "k": 10}``. Unknown names fail with the
list of valid names and the closest match; unknown parameters fail with the accepted ones.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from byzref.errors import ConfigError

__all__ = ["Registry", "UnknownNameError"]


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
            f"unknown {self.family} {name!r}{hint} Valid {self.family} names: {', '.join(valid)}"
        ) from None

    def build(self, config: str | Mapping[str, Any], **context: Any):
        """Instantiate a component from ``"name"`` or ``{"name": ..., **params}``.

        ``context`` holds keyword arguments supplied by the caller rather than the user (for
        instance ``f`` for an aggregator); they are passed only if the constructor accepts them
        and the config does not set them itself.
        """
        if isinstance(config, str):
            name, params = config, {}
        elif isinstance(config, Mapping):
            if "name" not in config:
                raise ConfigError(f"{self.family} config {dict(config)!r} has no 'name' field")
            params = {k: v for k, v in config.items() if k != "name"}
            name = config["name"]
        else:
            raise ConfigError(
                f"{self.family} config must be a name or a dict with 'name', got {config!r}"
            )
        cls = self.get(name)
        accepted = _accepted_params(cls)
        unknown = sorted(set(params) - accepted) if accepted is not None else []
        if unknown:
            raise ConfigError(
                f"{self.family} {name!r} got unknown parameter(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(sorted(accepted)) or '(none)'}"
            )
        for key, value in context.items():
            if key not in params and (accepted is None or key in accepted):
                params[key] = value
        return cls(**params)


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
