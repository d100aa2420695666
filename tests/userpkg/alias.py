"""Re-exports of :mod:`userpkg` classes under other module and class names (one class, one id)."""

from userpkg import TopFraction

TopHalf = TopFraction

__all__ = ["TopFraction", "TopHalf"]
