r"""
Your own compressor, property-tested
====================================

EF21-type methods such as Byz-DM21 (:ref:`algorithm-byz_dm21`) need a *contractive* compressor, a
map :math:`\mathcal C` in the class :math:`\mathbb B(\alpha)` (:ref:`math-compressors`):

.. math::

    \mathbb E\,\lVert \mathcal C(x) - x \rVert^2 \le (1 - \alpha)\,\lVert x \rVert^2
    \qquad \text{for every } x \in \mathbb R^d ,

and the rates of the paper (Li, Liu, Yi, arXiv:2603.15144, AISTATS 2026) depend on the declared
:math:`\alpha`. A compressor that declares too large an :math:`\alpha` makes every bound that uses it
wrong, so a new compressor should be tested against its own declaration before it is used.

This page writes a compressor byzref does not have, **block Top-k**: cut :math:`x` into consecutive
blocks of :math:`b` coordinates and keep the :math:`k` entries of largest magnitude in each block.
Within one block of size :math:`b` the :math:`k` largest squares carry at least the fraction
:math:`k/b` of the block's squared norm (they are at least the block's average), so every block
keeps at least :math:`k/b` of its energy and

.. math::

    \lVert \mathcal C(x) - x \rVert^2 \le \Bigl(1 - \frac kb\Bigr) \lVert x \rVert^2 ,
    \qquad \alpha = \frac kb ,

with equality when all entries have the same magnitude (a last, shorter block of size
:math:`r < b` keeps :math:`\min(k, r)/r \ge k/b`). It then checks it with :mod:`byzref.testing`,
shows the checks catching a deliberately wrong declared :math:`\alpha`, and plots the measured ratio
:math:`\lVert\mathcal C(x)-x\rVert^2/\lVert x\rVert^2` against the bound. :ref:`guide-own-components`
shows how to register such a class so that run configs can name it.
"""

# %%
# The class
# ---------
# A compressor subclasses :class:`byzref.compressors.base.Compressor` and supplies the map
# (``_compress``, on an (m, d) array, one row per message), its declared class and constant
# (``classes``, ``alpha``) and the bits one message costs. Here: k floats per block, each with its
# ⌈log₂ b⌉-bit position inside the block (the block itself is implied by the order).
import matplotlib.pyplot as plt
import numpy as np

from byzref.compressors.base import CONTRACTIVE, Compressor, index_bits
from byzref.compressors.top_k import TopK
from byzref.errors import ConfigError
from byzref.testing import check_contract, check_contractive, exact_moments


class BlockTopK(Compressor):
    """Keep the k entries of largest magnitude in every block of ``block`` consecutive coordinates."""

    name = "block_top_k"
    classes = (CONTRACTIVE,)
    deterministic = True

    def __init__(self, block: int, k: int, float_bits: int = 32):
        super().__init__(float_bits)
        if not 1 <= k <= block:
            raise ConfigError(f"block_top_k needs 1 ≤ k ≤ block, got k = {k}, block = {block}")
        self.block, self.k = int(block), int(k)

    def alpha(self, d):
        # the smallest kept fraction over the blocks: k/b for a full block, min(k, r)/r for a short one
        full, r = divmod(d, self.block)
        fractions = ([self.k / self.block] if full else []) + ([min(self.k, r) / r] if r else [])
        return min(fractions)

    def bits(self, d):
        full, r = divmod(d, self.block)
        kept = full * self.k + min(self.k, r)
        return float(kept * (self.float_bits + index_bits(self.block)))

    def _compress(self, X, rng):
        out = np.zeros_like(X)
        for start in range(0, X.shape[1], self.block):
            seg = X[:, start:start + self.block]
            keep = np.argsort(-np.abs(seg), axis=1, kind="stable")[:, :self.k]  # ties: lowest index
            np.put_along_axis(out[:, start:start + self.block], keep,
                              np.take_along_axis(seg, keep, axis=1), axis=1)
        return out


comp = BlockTopK(block=5, k=1)
d = 20
print(comp, "α =", comp.alpha(d), "bits =", comp.bits(d))
print(comp(np.array([3.0, -1.0, 0.5, 0.0, 2.0, 0.1, 0.2, -4.0, 0.3, 0.0])))

# %%
# The interface contract
# ----------------------
# :func:`byzref.testing.compressors.check_contract` checks what every compressor must do whatever its
# map: declared class and constant consistent, output shape and dtype, no aliasing or mutation of the
# input, the same output for the same seed, rows compressed independently, :math:`\mathcal C(0) = 0`.
# It returns the list of facts it verified and raises AssertionError on the first one that fails.
print("\n".join(check_contract(comp, d).checks))
for dim in (23, 3):  # a last, shorter block; a single block shorter than b
    print(f"d = {dim}: {len(check_contract(comp, dim).checks)} facts verified, α = {comp.alpha(dim):.3f}")

# %%
# Contraction on random inputs
# ----------------------------
# :func:`byzref.testing.compressors.check_contractive` checks
# :math:`\mathbb E\lVert\mathcal C(x)-x\rVert^2 \le (1-\alpha)\lVert x\rVert^2` row by row (exactly for
# a deterministic compressor, up to a rounding allowance) and reports the row with the smallest
# margin. Four families of inputs: Gaussian, heavy-tailed (Student t with 1 degree of freedom),
# sparse, and *flat* (random signs, equal magnitudes), the worst case of the bound.
rng = np.random.default_rng(0)
m = 300
families = {
    "Gaussian": rng.standard_normal((m, d)),
    "heavy-tailed": rng.standard_t(1.0, (m, d)),
    "sparse": rng.standard_normal((m, d)) * (rng.random((m, d)) < 0.2) + 1e-3 * rng.standard_normal((m, d)),
    "flat ±1": rng.choice([-1.0, 1.0], (m, d)),
}
for name, X in families.items():
    print(f"{name:13s}", check_contractive(comp, X))

# %%
# A deliberately wrong declaration
# --------------------------------
# Suppose the author had declared one and a half times the true constant, :math:`\alpha = 3k/(2b)`,
# a bound of :math:`1 - \alpha = 0.7` on the ratio. On Gaussian inputs the check still passes: a
# block's largest entry usually holds far more than :math:`k/b` of its energy (the ratio averages
# about 0.44 here, and exceeds 0.7 for about 2 inputs in 100 000). The flat inputs reach the true
# bound :math:`1 - k/b = 0.8` exactly, and the check fails with the numbers. Random Gaussian
# vectors alone would not have caught the error; the hypothesis strategy
# ``byzref.testing.vectors(ties="force")`` draws inputs with repeated magnitudes for this reason.


class OptimisticBlockTopK(BlockTopK):
    """BlockTopK with a wrong declaration: α = 3k/(2b) (1.5 times the true constant)."""

    def alpha(self, d):
        return min(1.0, 1.5 * super().alpha(d))


wrong = OptimisticBlockTopK(block=5, k=1)
print("Gaussian:", check_contractive(wrong, families["Gaussian"]))
try:
    check_contractive(wrong, families["flat ±1"])
except AssertionError as err:
    print("flat ±1: caught:", err)

# %%
# Exact moments of a random variant
# ---------------------------------
# For a random compressor with finitely many outcomes, :func:`byzref.testing.compressors.exact_moments`
# gives :math:`\mathbb E\,\mathcal C(x)` and :math:`\mathbb E\lVert\mathcal C(x)-x\rVert^2` exactly
# from the outcomes and their probabilities. A random variant of block Top-k shifts the block
# boundaries by a uniform offset :math:`s \in \{0, \dots, b-1\}` (cyclically); each offset is a block
# Top-k, so the variant is still in :math:`\mathbb B(k/b)`. The exact mean squared error over the
# :math:`b` offsets is compared with the Monte-Carlo estimate of ``check_contractive``.


class ShiftedBlockTopK(BlockTopK):
    """BlockTopK on the coordinates rotated by a uniform random offset in {0, …, block − 1}."""

    deterministic = False

    def _compress(self, X, rng):
        out = np.empty_like(X)
        shifts = rng.integers(0, self.block, size=X.shape[0])
        for i, s in enumerate(shifts):
            out[i] = np.roll(BlockTopK._compress(self, np.roll(X[i:i + 1], -s, axis=1), None), s, axis=1)
        return out


shifted = ShiftedBlockTopK(block=5, k=1)
x = families["Gaussian"][0]
outcomes = [np.roll(comp(np.roll(x, -s)), s) for s in range(comp.block)]
mean, mse = exact_moments(outcomes, np.full(comp.block, 1.0 / comp.block), x)
mc = check_contractive(shifted, x, rng=np.random.default_rng(1))
print(f"exact E‖C(x) − x‖² = {mse:.5f}; Monte Carlo {mc.observed:.5f} (n = {mc.n_samples}); "
      f"bound (1 − α)‖x‖² = {mc.bound:.5f}")
print("contract:", check_contract(shifted, d).checks[-3:])

# %%
# The measured ratio against the bound
# ------------------------------------
# For every input of every family, the ratio :math:`\lVert\mathcal C(x)-x\rVert^2/\lVert x\rVert^2`
# of block Top-k and, for comparison, of the built-in Top-k (:class:`byzref.compressors.top_k.TopK`)
# with the same number of kept entries (:math:`K = d k / b = 4`, so the same :math:`\alpha = 0.2`).
# Global Top-k keeps the K largest entries of the whole vector, so its ratio is never above block
# Top-k's. The solid line is the declared bound :math:`1 - \alpha`; every point lies on or below it,
# and the flat inputs sit on it. The dashed line is the wrong declaration's bound
# :math:`1 - 3k/(2b)`: the Gaussian inputs stay below it, the flat ones do not.
top_k = TopK(k=d * comp.k // comp.block)


def ratios(c, X):
    return ((c(X) - X) ** 2).sum(axis=1) / (X**2).sum(axis=1)


fig, ax = plt.subplots(figsize=(7.6, 4.6), layout="constrained")
jitter = np.random.default_rng(2).uniform(-0.12, 0.12, m)
for j, X in enumerate(families.values()):
    ax.scatter(j - 0.17 + jitter, ratios(comp, X), s=7, alpha=0.45, color="C0",
               label="block Top-k (b = 5, k = 1)" if j == 0 else None)
    ax.scatter(j + 0.17 + jitter, ratios(top_k, X), s=7, alpha=0.45, color="C1", marker="^",
               label="Top-k (k = 4), as many entries kept" if j == 0 else None)
ax.axhline(1 - comp.alpha(d), color="k", linewidth=1.4,
           label=f"declared bound 1 − α = {1 - comp.alpha(d):.1f}")
ax.axhline(1 - wrong.alpha(d), color="C3", linestyle="--", linewidth=1.4,
           label=f"wrong declaration 1 − 3k/(2b) = {1 - wrong.alpha(d):.1f}")
ax.set_xticks(range(len(families)), list(families))
ax.set_xlabel("input family (300 random vectors each, d = 20)")
ax.set_ylabel("‖C(x) − x‖² / ‖x‖²")
ax.set_ylim(0, 1.12)
ax.set_title("Block Top-k: measured compression error against the declared α", fontsize="medium")
ax.legend(fontsize="small", loc="upper center", ncol=2)
ax.grid(True, axis="y", alpha=0.3)
