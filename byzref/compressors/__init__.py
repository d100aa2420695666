"""Compressors (contractive 𝔹(α), unbiased 𝕌(ω)).

One file per compressor; each registers itself in ``COMPRESSORS``."""

from byzref.compressors import (  # noqa: F401  (importing registers each compressor)
    identity,
    natural,
    qsgd,
    rand_k,
    rand_k_biased,
    scaled_sign,
    top_k,
)
from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, UNBIASED, Compressor

__all__ = ["COMPRESSORS", "CONTRACTIVE", "UNBIASED", "Compressor", "build_compressor"]


def build_compressor(config):
    """Build a compressor from ``"name"`` or ``{"name": ..., **params}``."""
    return COMPRESSORS.build(config)
