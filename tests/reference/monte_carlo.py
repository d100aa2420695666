"""Monte-Carlo estimates of the four quantities theory.exact computes, from engine runs over seeds.

The quantities, in order: the summary avg_grad_sq, and ‖∇f(x^T)‖², f(x^T) − f*, ‖x^T − x*‖² at the last
checkpoint. The tests compare them with :func:`exact_values` of an exact trajectory.
"""

from __future__ import annotations

import numpy as np

from byzref.engine import run


def engine_moments(spec_of_seed, seeds: int) -> tuple[np.ndarray, np.ndarray]:
    """(mean, standard error) over seeds 0 … seeds − 1 of the four quantities (Python loop)."""
    vals = []
    for s in range(seeds):
        r = run(spec_of_seed(s), fast=False)
        vals.append([r.summary["avg_grad_sq"], r.curves["grad_sq"][-1], r.curves["f_gap"][-1],
                     r.curves["dist"][-1] ** 2])
    v = np.array(vals)
    return v.mean(axis=0), v.std(axis=0, ddof=1) / np.sqrt(len(v))


def exact_values(curves) -> np.ndarray:
    """The same four quantities from a :class:`theory.exact.ExactCurves`."""
    return np.array([curves.avg_grad_sq, curves.grad_sq[-1], curves.f_gap[-1], curves.dist_sq[-1]])
