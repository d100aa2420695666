"""Name → component registries, one per family.

A component is a class registered under a name with ``@REGISTRY.register("name")``; a config
names it by string plus parameters, ``{"name": "top_k", "k": 10}``.

User components need no registration. Where a built-in name is expected, a family with a base
class (compressor, aggregator, pre-aggregator, attack, algorithm, problem; see :data:`FAMILY_BASES`)
also accepts

* an import path ``"package.module:ClassName"`` (dotted names on both sides of one ``:``) of a
  subclass of the family's base class, and
* the name of an entry point in the group ``byzref.components`` (:data:`ENTRY_POINT_GROUP`) whose
  value is such an import path; the entry's name is used verbatim (it holds no ``:``; as an
  aggregator pipeline stage it must be a dotted identifier), and the class's base decides its family.

Built-in names win over entry points of the same name. A resolved user class gets ``name`` set
to its canonical import path ``"<cls.__module__>:<cls.__qualname__>"`` (as ``register`` sets a
built-in's name), and that string, never the entry name, is what canonical configs and run ids
hold, so one class has one id in every process; an import path to a built-in class resolves to
its registered name. Every failure is a one-line
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
import functools
import importlib
import importlib.metadata
import inspect
import re
from collections.abc import Callable, Mapping
from typing import Any

from byzref.errors import ConfigError, show

__all__ = ["ENTRY_POINT_GROUP", "FAMILY_BASES", "Registry", "UnknownNameError", "clear_resolved",
           "constructor_signature", "param_ranges"]

#: the entry-point group through which installed packages name their components
ENTRY_POINT_GROUP = "byzref.components"
#: family → import path of its base class: the families that accept user components
FAMILY_BASES = {
    "compressor": "byzref.compressors.base:Compressor",
    "aggregator": "byzref.aggregators.base:Aggregator",
    "pre-aggregator": "byzref.aggregators.base:PreAggregator",
    "attack": "byzref.attacks.base:Attack",
    "algorithm": "byzref.algorithms.base:Algorithm",
    "problem": "problems.base:Problem",
}
_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_IMPORT_PATH = re.compile(rf"({_DOTTED}):({_DOTTED})\Z")
#: (family, name) → resolved user class; see :func:`clear_resolved`
_RESOLVED: dict[tuple[str, str], type] = {}


class UnknownNameError(ConfigError, KeyError):
    """A component name is not registered; the message lists the valid names.

    Both a :class:`~byzref.errors.ConfigError` and a ``KeyError`` (so ``except KeyError`` around a
    registry lookup keeps working); ``str(exc)`` is the message without the quotes a KeyError adds.

    Parameters
    ----------
    message : str
        The one-line message: the unknown name, the closest valid one and all valid names.
    field : str or None, optional
        The offending parameter's name (default None).
    """

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class Registry:
    """A mapping from component names to classes (or factories) for one family.

    Parameters
    ----------
    family : str
        Human-readable family name used in error messages ("compressor", "aggregator", ...).
    base : str, optional
        Import path ``"module:Class"`` of the family's base class; with one, :meth:`get` also
        resolves user components (import paths and entry points, see the module docstring).
        Default: ``FAMILY_BASES.get(family)``.
    """

    def __init__(self, family: str, base: str | None = None):
        self.family = family
        self.base = base if base is not None else FAMILY_BASES.get(family)
        self._entries: dict[str, Any] = {}

    def register(self, name: str) -> Callable[[Any], Any]:
        """Class decorator registering ``cls`` under ``name`` (and setting ``cls.name``).

        Parameters
        ----------
        name : str
            The name configs use; registering one name twice raises ValueError.

        Returns
        -------
        callable
            The decorator; it returns the class unchanged apart from ``cls.name``.
        """

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
        """Return the class registered as ``name``, or the user class it names; raise ConfigError.

        Parameters
        ----------
        name : str
            A registered name, an import path ``"package.module:Class"`` or an entry-point name
            (group ``byzref.components``); the last two only for a registry with a ``base``.

        Raises
        ------
        UnknownNameError
            ``name`` is none of these; the message lists the valid names.
        ConfigError
            An import path or entry point that cannot be imported or loaded, or that names
            something other than a subclass of the family's base class (one line).
        """
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            pass
        if self.base is not None and isinstance(name, str):
            cls = self._resolve(name)
            if cls is not None:
                return cls
        valid = self.names()
        close = difflib.get_close_matches(str(name), valid, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise UnknownNameError(
            f"unknown {self.family} {show(name)}{hint} Valid {self.family} names: {', '.join(valid)}"
            + (f"{self._user_forms()}" if self.base is not None else "")
        ) from None

    def canonical(self, name: str) -> str:
        """The name a canonical config holds for ``name``.

        Parameters
        ----------
        name : str
            A registered name, an import path or an entry-point name (as for :meth:`get`).

        Returns
        -------
        str
            ``name`` itself for a built-in, else the user class's import path
            ``"module:Qualname"`` (an entry-point name becomes its class's path).

        Raises
        ------
        ConfigError
            When ``name`` names no component of this family.
        """
        try:
            if name in self._entries:
                return name
        except TypeError:  # unhashable: get() reports it
            pass
        return self.get(name).name

    # ---- user components -------------------------------------------------------------------------
    def _user_forms(self) -> str:
        return (f"; or an import path 'package.module:ClassName' of a {self._base_name()} subclass, or "
                f"a {ENTRY_POINT_GROUP} entry-point name")

    def _base_name(self) -> str:
        return str(self.base).split(":")[-1]

    def _fail(self, name: str, what: str, via: str = "") -> ConfigError:
        return ConfigError(f"{self.family} {name!r}{via}: {what}; allowed: a built-in {self.family} "
                           f"name ({', '.join(self.names())}){self._user_forms()}", field=self.family)

    def _resolve(self, name: str):
        """The user class ``name`` refers to, or None when it is neither an import path nor an entry
        point (then :meth:`get` reports an unknown name)."""
        key = (self.family, name)
        if key in _RESOLVED:
            return _RESOLVED[key]
        if ":" in name:
            cls = self._check_family(name, _import(name, lambda what: self._fail(name, what)), "")
        else:
            found = [ep for ep in _entry_points() if ep.name == name]
            if not found:
                return None
            values = sorted({ep.value for ep in found})
            via = f" (entry point {ENTRY_POINT_GROUP} {name} = {values[0]!r})"
            if len(values) > 1:
                raise self._fail(name, f"several {ENTRY_POINT_GROUP} entry points are named {name!r} "
                                       f"({', '.join(values)}); rename all but one", "")
            try:
                obj = found[0].load()
            except Exception as exc:  # any import-time error of the user's package
                raise self._fail(name, f"the entry point failed to load ({_one_line(exc)})", via) from None
            cls = self._check_family(name, obj, via)
            name_given = f"{found[0].module}:{found[0].attr}"
        builtin = next((k for k, v in self._entries.items() if v is cls), None)
        if builtin is None:
            path = _canonical_path(cls, name if ":" in name else name_given)
            if vars(cls).get("name") != path:
                cls.name = path
        _RESOLVED[key] = cls
        return cls

    def _check_family(self, name: str, obj: Any, via: str):
        base = _import(self.base, lambda what: ConfigError(f"{self.family} base {self.base!r}: {what}"))
        if isinstance(obj, type) and issubclass(obj, base) and obj is not base:
            return obj
        if obj is base:
            what = f"is the base class {self._base_name()} itself, not a subclass of it"
        elif isinstance(obj, type):
            other = _family_of(obj)
            what = (f"is {_a(other)} class, not {_a(self.family)}" if other else
                    f"class {obj.__qualname__} is not a subclass of {self.base}")
        else:
            what = f"names {_a(type(obj).__name__)}, not a class (a subclass of {self.base})"
        raise self._fail(name, what, via)

    def build(self, config: str | Mapping[str, Any], **context: Any):
        """Instantiate a component from ``"name"`` or ``{"name": ..., **params}``; raise ConfigError.

        Parameters
        ----------
        config : str or Mapping
            A component name, or a table with a ``"name"`` field and the constructor's parameters.
        **context
            Keyword arguments supplied by the caller rather than the user (for instance ``f`` for
            an aggregator, ``rng`` for a problem); each is passed only if the constructor accepts
            it and the config does not set it itself.

        Returns
        -------
        object
            The component instance.

        Raises
        ------
        ConfigError
            For an unknown name or parameter, a missing required parameter, or a value the
            constructor refuses (one line naming the field and the component).
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


def clear_resolved() -> None:
    """Forget the user components resolved so far (after installing or editing entry points)."""
    _RESOLVED.clear()
    constructor_signature.cache_clear()


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}".rstrip(": ")


def _entry_points() -> list:
    """The entry points of the group ``byzref.components`` (none when the metadata is unreadable)."""
    try:
        return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    except Exception:  # a broken distribution on sys.path must not break the built-in names
        return []


def _import(path: str, fail: Callable[[str], ConfigError]) -> Any:
    """The object an import path ``"package.module:Attr.Sub"`` names; ``fail(what)`` builds the error."""
    m = _IMPORT_PATH.match(path)
    if m is None:
        raise fail("is not an import path of the form 'package.module:ClassName' (dotted names, one ':')")
    module_name, attrs = m.groups()
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, or any error the module raises while importing
        raise fail(f"cannot import module {module_name!r} ({_one_line(exc)})") from None
    for i, attr in enumerate(attrs.split(".")):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            where = ".".join(attrs.split(".")[:i])
            inner = f" ({where!r} has no {attr!r})" if where else ""
            raise fail(f"module {module_name!r} has no attribute {attrs!r}{inner}") from None
    return obj


def _canonical_path(cls: type, given: str) -> str:
    """``"<module>:<qualname>"`` of ``cls`` when importing it gives ``cls`` back (one spelling per class,
    whichever re-export was named); else ``given``, the import path that was used."""
    path = f"{cls.__module__}:{cls.__qualname__}"
    if path == given or "<" in path or cls.__module__ == "__main__":
        return given
    try:
        same = _import(path, ConfigError) is cls
    except ConfigError:
        same = False
    return path if same else given


def _family_of(cls: type) -> str | None:
    """The family whose base class ``cls`` subclasses, among the already imported bases."""
    import sys

    for family, path in FAMILY_BASES.items():
        module, attr = path.split(":")
        base = getattr(sys.modules.get(module), attr, None)
        if isinstance(base, type) and issubclass(cls, base):
            return family
    return None


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


@functools.lru_cache(maxsize=1024)
def constructor_signature(cls) -> inspect.Signature | None:
    """``inspect.signature(cls)``, computed once per class (None when it has none).

    A sweep builds and normalizes thousands of configs of a few classes, and inspecting a
    signature costs tens of microseconds each time.

    Parameters
    ----------
    cls : type
        A component class.

    Returns
    -------
    inspect.Signature or None
        Its constructor's signature, or None when ``inspect`` cannot give one.
    """
    try:
        return inspect.signature(cls)
    except (TypeError, ValueError):
        return None


def _missing_params(cls, params: Mapping[str, Any]) -> list[str]:
    """Required constructor parameters (no default) that ``params`` does not set, in order."""
    sig = constructor_signature(cls)
    if sig is None:
        return []
    return [p.name for p in sig.parameters.values()
            if p.default is inspect.Parameter.empty and p.name not in params
            and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]


def _accepted_params(cls) -> set[str] | None:
    """Keyword parameters of ``cls``'s constructor, or None when it takes ``**kwargs``."""
    sig = constructor_signature(cls)
    if sig is None:
        return None
    out = set()
    for p in sig.parameters.values():
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY):
            out.add(p.name)
    return out
