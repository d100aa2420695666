"""Byzantine attacks; each docstring gives the Byzantine row and its source.

One file per attack; each registers itself in ``ATTACKS``."""

from byzref.attacks import (  # noqa: F401  (imported to register the attacks)
    adaptive_alie,
    adaptive_ipm,
    alie,
    bit_flip,
    gaussian,
    ipm,
    label_flip,
    mimic,
    none,
    nonfinite,
    sign_flip,
)
from byzref.attacks.base import ATTACKS, Attack, AttackContext

__all__ = ["ATTACKS", "Attack", "AttackContext", "build_attack"]


def build_attack(config):
    """Build an attack from ``"name"`` or ``{"name": ..., **params}``."""
    return ATTACKS.build(config)
