"""Compressors (contractive 𝔹(α), unbiased 𝕌(ω)).

One file per compressor; each registers itself in ``COMPRESSORS``. The maps, their constants and
their sources are on the page :ref:`math-compressors`; :ref:`guide-own-components` shows how to
add your own."""

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
    """Build a compressor from ``"name"`` or ``{"name": ..., **params}``.

    Parameters
    ----------
    config : str or Mapping
        A name (registered, an entry-point name, or a user class's import path
        ``"package.module:Class"``), or a mapping with ``"name"`` and the constructor's
        parameters, e.g. ``{"name": "top_k", "k": 10}``; a bare name works only for compressors
        whose parameters all have defaults.

    Returns
    -------
    byzref.compressors.base.Compressor
        The compressor.

    Raises
    ------
    byzref.errors.ConfigError
        On an unknown name (the message lists the valid ones) or a parameter out of range.

    Examples
    --------
    >>> from byzref.compressors import build_compressor
    >>> build_compressor({"name": "top_k", "k": 2}).bits(8)
    70.0
    """
    return COMPRESSORS.build(config)
