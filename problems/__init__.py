"""Objectives with stochastic oracles and exactly known constants.

Build a problem from a config with :func:`build_problem`; every problem class also has a
``from_arrays`` path that reproduces a setup exactly from given arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from problems import least_squares, logreg_l2, logreg_nonconvex, nonconvex_synthetic, quadratic  # noqa: F401
from problems.base import Constants, Problem
from problems.registry import PROBLEMS

__all__ = ["PROBLEMS", "Constants", "Problem", "build_problem"]


def build_problem(config, rng: np.random.Generator, **context: Any) -> Problem:
    """Instantiate ``{"name": ..., **params}`` (or a bare name) with instance randomness ``rng``.

    ``context`` (typically ``n`` and ``f``) fills parameters the config does not set itself.
    """
    return PROBLEMS.build(config, rng=rng, **context)
