"""Objectives with stochastic oracles and exactly known constants.

Build a problem from a config with :func:`build_problem`; every problem class also has a
``from_arrays`` path that reproduces a setup exactly from given arrays. The registered problems are
``quadratic``, ``nonconvex_synthetic``, ``least_squares``, ``logreg_l2`` and ``logreg_nonconvex``;
their definitions and constants are on :ref:`math-problems`.
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

    Parameters
    ----------
    config : dict or str
        The problem table of a run config: a registered name plus that problem's parameters, or the
        bare name (its defaults).
    rng : numpy.random.Generator
        Instance randomness (data, shifts, eigenbasis, start); the engine passes the run's
        ``problem`` stream (:ref:`math-streams`).
    **context
        Parameters the config does not set itself, typically ``n`` and ``f``.

    Returns
    -------
    Problem
        The built instance.

    Raises
    ------
    byzref.errors.ConfigError
        For an unknown name or a parameter out of its allowed range.
    """
    return PROBLEMS.build(config, rng=rng, **context)
