"""Byzantine attacks; each docstring gives the Byzantine row and its source.

One file per attack; each registers itself in ``ATTACKS``. The definitions are collected on
:ref:`math-attacks`.

.. py:class:: AdaptiveAttack(evals=20, start=0.0, delta=10.0, ratio=0.8)
   :module: byzref.attacks._adaptive

   The private base of the two adaptive attacks, :class:`byzref.attacks.adaptive_ipm.AdaptiveIPM`
   and :class:`byzref.attacks.adaptive_alie.AdaptiveALIE`. Every Byzantine row is
   b(τ*) = base + τ*·direction, where τ* maximises
   φ(τ) = ‖Agg(stack(H, f copies of b(τ))) − mean(H)‖₂ by a bounded line search with exactly
   ``evals`` evaluations (one ``ctx.aggregate`` call each). The search starts at τ = ``start`` and
   tries τ + δ (δ = ``delta``): while φ strictly improves it accepts and doubles δ; at the first
   failure it multiplies δ by ``ratio``, then keeps trying τ + δ, accepting strict improvements and
   multiplying δ by ``ratio`` after every try. A NaN value of φ is never accepted. This
   re-implements the documented behaviour of byzfl's optimised attacks (Allouah et al., AISTATS 2023).
   The parameters are those of the two subclasses.
"""

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
    """Build an attack from ``"name"`` or ``{"name": ..., **params}``.

    Parameters
    ----------
    config : str or dict
        A registered attack name (its defaults), or the name with that attack's parameters.

    Returns
    -------
    Attack
        The attack instance.

    Raises
    ------
    byzref.errors.ConfigError
        For an unknown name or a parameter out of its allowed range.
    """
    return ATTACKS.build(config)
