"""Common interface of Byzantine attacks.

An attack writes the f Byzantine rows. It receives the good rows ``H`` (the rows the server is
about to aggregate, or the good messages, depending on the engine's attack target) and an
:class:`AttackContext` that exposes what an omniscient adversary may use. Attacks that need the
algorithm or the problem (``none``, ``bit_flip``, ``label_flip``) read it through the context's
callables, which the engine fills in; the interface does not change for them.

The Byzantine rows of every attack, with their sources, are on :ref:`math-attacks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from byzref.errors import ConfigError, check_int
from byzref.registry import Registry

__all__ = ["ATTACKS", "Attack", "AttackContext"]

ATTACKS = Registry("attack")


@dataclass
class AttackContext:
    """What the adversary sees besides the good rows.

    Parameters
    ----------
    n : int
        Number of workers.
    f : int
        Number of Byzantine workers, the last f rows (see :mod:`byzref.roles`).
    t : int, default 0
        Iteration index.
    aggregate : callable or None, default None
        ``aggregate(X) -> (d,)``: the server's aggregator (pre-aggregators included) evaluated on a
        full (n, d) array without side effects. Needed by adaptive attacks.
    own_rows : callable or None, default None
        ``own_rows() -> (f, d)``: the rows the Byzantine workers would send if they followed the
        protocol on their own data. Needed by ``none`` and ``bit_flip``.
    flipped_rows : callable or None, default None
        ``flipped_rows() -> (f, d)``: the same, computed on label-flipped data (``label_flip``).
    """

    n: int
    f: int
    t: int = 0
    aggregate: Callable[[np.ndarray], np.ndarray] | None = None
    own_rows: Callable[[], np.ndarray] | None = None
    flipped_rows: Callable[[], np.ndarray] | None = None


class Attack:
    """Base class; subclasses implement ``_rows(H, ctx, rng) -> (f, d)`` or ``_vector(...) -> (d,)``.

    Calling an attack, ``attack(H, ctx, rng)``, checks the shapes and the context, returns an empty
    (0, d) array when f = 0, and otherwise the (f, d) Byzantine rows (``_vector`` repeated f times
    by default); the good rows H are passed read only. See :ref:`math-attacks`.

    Attributes
    ----------
    requires : frozenset of str
        Context fields the attack needs (``"aggregate"``, ``"own_rows"``, ``"flipped_rows"``).
    random : bool
        Whether the attack draws random numbers (then ``rng`` is required).
    """

    name: ClassVar[str] = "?"
    requires: ClassVar[frozenset[str]] = frozenset()
    random: ClassVar[bool] = False
    test_config: ClassVar[dict[str, Any]] = {}

    def params(self) -> dict[str, Any]:
        """Hyper-parameters as a plain dict (for records and ``byzref info``).

        Returns
        -------
        dict
            Parameter name to value, the keyword arguments that rebuild the attack.
        """
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def describe(self) -> dict[str, Any]:
        """Name, parameters and requirements as plain data.

        Returns
        -------
        dict
            ``{"name": ..., "params": ..., "requires": [...]}``.
        """
        return {"name": self.name, "params": self.params(), "requires": sorted(self.requires)}

    def __call__(self, H, ctx: AttackContext, rng: np.random.Generator | None = None) -> np.ndarray:
        """Return the (f, d) Byzantine rows given the (n − f, d) good rows H. H is not modified."""
        H = np.asarray(H, dtype=np.float64)
        if H.ndim != 2:
            raise ConfigError(f"attack input H must be an (n - f, d) array, got shape {H.shape}")
        f = check_int("f", ctx.f, 0)
        if H.shape[0] != ctx.n - f:
            raise ConfigError(f"attack got {H.shape[0]} good rows, expected n - f = {ctx.n - f}")
        for field in sorted(self.requires):
            if getattr(ctx, field) is None:
                raise ConfigError(f"attack {self.name!r} needs AttackContext.{field}")
        if rng is None and self.random:
            raise ConfigError(f"attack {self.name!r} is random and needs an rng")
        if f == 0:
            return np.empty((0, H.shape[1]))
        H_view = H.view()
        H_view.flags.writeable = False  # the good rows are never mutated
        out = np.asarray(self._rows(H_view, ctx, rng), dtype=np.float64)
        if out.shape != (f, H.shape[1]):
            raise AssertionError(
                f"attack {self.name!r} returned shape {out.shape}, expected {(f, H.shape[1])}"
            )
        return out

    def kernel(self, n: int, f: int, d: int):
        """The compiled form: a :class:`byzref.kernels.Kernel` ``(fn, params)`` for n workers, f Byzantine.

        ``fn(params, H, own, t, rng, pk, out)`` writes into ``out`` (f, d) the rows that
        ``self(H, ctx, rng)`` returns for the (n − f, d) good rows ``H`` at iteration ``t``, bit for
        bit, consuming ``rng`` identically; ``own`` (f, d) holds ``ctx.own_rows()`` (the flipped rows
        under ``label_flip``). Templates may call ``probe(pk, X, out)`` (``ctx.aggregate``). A setting
        the Python attack would refuse at call time (too few good rows, an undefined scale) raises the
        same :class:`~byzref.errors.ConfigError` here, unless f = 0 (no rows to write).

        Parameters
        ----------
        n : int
            Number of workers.
        f : int
            Number of Byzantine workers.
        d : int
            Dimension.

        Returns
        -------
        byzref.kernels.Kernel
            The kernel function and its parameters (scratch arrays included).

        Raises
        ------
        NotImplementedError
            When the attack has no kernel (the Python loop runs it).
        """
        raise NotImplementedError(f"attack {self.name!r} has no kernel")

    def _rows(self, H: np.ndarray, ctx: AttackContext, rng) -> np.ndarray:
        """Default: the same vector for every Byzantine row."""
        v = self._vector(H, ctx, rng)
        return np.broadcast_to(v, (ctx.f, H.shape[1])).copy()

    def _vector(self, H: np.ndarray, ctx: AttackContext, rng) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"
