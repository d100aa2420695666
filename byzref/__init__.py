"""byzref: a NumPy/Numba reference and theory-verification toolkit for Byzantine-robust
distributed learning with compressed communication (Byz-DM21, Byz-VR-DM21 and baselines;
Li, Liu, Yi, arXiv:2603.15144, AISTATS 2026).

``byzref.run(config) -> Result`` runs one simulation (:func:`byzref.engine.run`); component families
live in :mod:`byzref.compressors`, :mod:`byzref.aggregators`, :mod:`byzref.attacks` and
:mod:`byzref.algorithms`; the user-facing property checks in :mod:`byzref.testing`.
``byzref.load(path, summary=False, where=None)`` reads finished runs as a pandas DataFrame
(:func:`byzref.table.load`, the ``table`` extra). The package is light to import: the engine (and
numba) load on first use of ``run``, pandas on first use of ``load``. See :ref:`guide-engine`.
"""

from byzref.errors import ConfigError
from byzref.registry import UnknownNameError

__version__ = "0.4.0"
__all__ = ["ConfigError", "UnknownNameError", "__version__", "load", "run"]


def __getattr__(name: str):
    if name == "run":
        from byzref.engine import run

        return run
    if name == "load":
        from byzref.table import load

        return load
    raise AttributeError(f"module 'byzref' has no attribute {name!r}")
