"""Compressors (SPEC §2). One file per compressor; each registers itself in ``COMPRESSORS``."""

from byzref.compressors.base import COMPRESSORS, CONTRACTIVE, UNBIASED, Compressor

__all__ = ["COMPRESSORS", "CONTRACTIVE", "UNBIASED", "Compressor", "build_compressor"]


def build_compressor(config):
    """Build a compressor from ``"name"`` or ``{"name": ..., **params}``."""
    return COMPRESSORS.build(config)
