"""The problem interface every algorithm uses (SPEC §1, §7).

A problem has n workers (the last f are Byzantine, SPEC §1; their shards exist because the
bit-flip and label-flip attacks need them) and dimension d. The objective is the average over
the GOOD workers only: f(x) = (1/|G|) Σ_{i∈G} f_i(x).

Stochastic gradients are a deterministic function of the point and of a *samples* array drawn
beforehand with :meth:`Problem.draw`: the same samples can be evaluated at two points (needed by
Byz-VR-DM21, MARINA and PAGE), and algorithms that consume samples in the same pattern see the
same noise (common random numbers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import numpy as np

__all__ = ["Constants", "Problem"]


@dataclass(frozen=True)
class Constants:
    """Theory constants of a problem instance (SPEC §1).

    Attributes
    ----------
    L : float
        Smoothness of f (exact unless ``notes`` says otherwise).
    L_i : ndarray, shape (n,)
        Smoothness of each worker's f_i (Byzantine shards included).
    L_tilde : float
        L̃ = sqrt((1/|G|) Σ_{i∈G} L_i²).
    mu : float or None
        PL constant when f is PL, else None.
    f_star : float
        f* = inf f (exact when ``f_star_exact``, otherwise a documented lower bound).
    f_star_exact : bool
    sigma2 : float or None
        Variance bound of one stochastic gradient (batch 1); None when not known in closed form.
    zeta2 : float or None
        Heterogeneity ζ² with B (below); None when not known in closed form.
    B : float or None
        Heterogeneity multiplier B.
    exact : dict
        Which of sigma2, zeta2, B are exact (True) or estimates/bounds (False).
    notes : str
        How non-exact values were obtained.
    """

    L: float
    L_i: np.ndarray
    L_tilde: float
    mu: float | None
    f_star: float
    f_star_exact: bool
    sigma2: float | None
    zeta2: float | None
    B: float | None
    exact: dict[str, bool] = field(default_factory=dict)
    notes: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain-data form (lists instead of arrays) for JSON records."""
        out = asdict(self)
        out["L_i"] = np.asarray(self.L_i).tolist()
        return out


class Problem:
    """Base class of problems. Subclasses implement the methods below (vectorised over workers).

    Attributes
    ----------
    n, f, d : int
        Workers, Byzantine workers (the last f), dimension.
    constants : Constants
    supports_label_flip : bool
        True when :meth:`flipped_stoch_grads` is available.
    """

    name: ClassVar[str] = "?"
    supports_label_flip: ClassVar[bool] = False
    test_config: ClassVar[dict[str, Any]] = {}

    n: int
    f: int
    d: int
    constants: Constants

    # --- deterministic quantities -------------------------------------------------------------
    def x0(self) -> np.ndarray:
        """The default starting point (d,)."""
        raise NotImplementedError

    def x_star(self) -> np.ndarray | None:
        """A minimiser of f when known, else None."""
        return None

    def loss(self, x: np.ndarray) -> float:
        """f(x) over the good workers."""
        raise NotImplementedError

    def grad(self, x: np.ndarray) -> np.ndarray:
        """∇f(x) over the good workers, shape (d,)."""
        raise NotImplementedError

    def worker_grads(self, x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """All n full local gradients ∇f_i(x), shape (n, d) (written into ``out`` if given)."""
        raise NotImplementedError

    # --- stochastic oracle ----------------------------------------------------------------------
    def draw(self, rng: np.random.Generator, batch: int = 1) -> np.ndarray:
        """Draw the samples of one stochastic-gradient call for all n workers (layout is problem-specific)."""
        raise NotImplementedError

    def stoch_grads(self, x: np.ndarray, samples: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """∇f_i(x; ξ_i) for all n workers with the given samples, shape (n, d)."""
        raise NotImplementedError

    def stoch_grads_pair(
        self,
        x_new: np.ndarray,
        x_old: np.ndarray,
        samples: np.ndarray,
        out_new: np.ndarray | None = None,
        out_old: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(∇f_i(x_new; ξ_i), ∇f_i(x_old; ξ_i)) with the SAME samples, each (n, d)."""
        return self.stoch_grads(x_new, samples, out_new), self.stoch_grads(x_old, samples, out_old)

    def flipped_stoch_grads(self, x: np.ndarray, samples: np.ndarray) -> np.ndarray:
        """Stochastic gradients computed with flipped labels, (n, d) (label-flip attack)."""
        raise NotImplementedError(f"problem {self.name!r} has no labels to flip")
