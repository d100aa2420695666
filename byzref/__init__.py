"""byzref: a NumPy/Numba reference and theory-verification toolkit for Byzantine-robust
distributed learning with compressed communication (Byz-DM21, Byz-VR-DM21 and baselines;
Li, Liu, Yi, arXiv:2603.15144, AISTATS 2026).

The package is kept light to import: component families live in ``byzref.compressors``,
``byzref.aggregators`` and ``byzref.attacks``; the user-facing checks in ``byzref.testing``.
"""

from byzref.errors import ConfigError
from byzref.registry import UnknownNameError

__version__ = "0.1.0"
__all__ = ["ConfigError", "UnknownNameError", "__version__"]
