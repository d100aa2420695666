"""Algorithms: one file per method family, each registered in ``ALGORITHMS``."""

from byzref.algorithms import byz_dasha_page, byz_dm21, byz_ef21, byz_vr_marina, presets, robust_sgd
from byzref.algorithms.base import ALGORITHMS, Algorithm, Block, Oracle

__all__ = ["ALGORITHMS", "Algorithm", "Block", "Oracle"]
del byz_dasha_page, byz_dm21, byz_ef21, byz_vr_marina, presets, robust_sgd
