"""``verify``: run the experiments of a list of claims once (deduplicated, in parallel) and decide them.

    from theory import verify
    report = verify(scale="quick")            # built-in claims
    print(report.table()); report.write("out")

See :ref:`math-claims` for the built-in claims and :ref:`guide-own-claim` for adding one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from theory.claims.base import Claim, Scale
from theory.report import Report
from theory.runner import run_all

__all__ = ["verify"]


def verify(claims: list[Claim] | None = None, *, scale: str | Scale = "default", workers: int = 2,
           negative_controls: bool = False, progress: Callable[[int, int], None] | None = None,
           store_dir=None) -> Report:
    """Decide ``claims`` (default: the built-in claims; plus the negative controls if asked).

    The claims' runs go through :func:`theory.runner.run_all`; a claim without runs (its ``configs``
    empty: exact moments, component constants) is decided in a thread while they execute, with an
    empty record table.

    Parameters
    ----------
    claims : list of theory.claims.base.Claim or None, optional
        Claims to decide; None (default) means :func:`theory.suite.builtin_claims`.
    scale : str or theory.claims.base.Scale, optional
        "quick", "default" (the default), "full" or a :class:`~theory.claims.base.Scale`.
    workers : int, optional
        Processes for the runs (default 2; ≤ 1: serial; results are identical either way).
    negative_controls : bool, optional
        Also decide :func:`theory.suite.negative_controls` (default False).
    progress : callable or None, optional
        Called as progress(done, total) after each run.
    store_dir : str or os.PathLike or None, optional
        Results store for the runs (reused on a rerun: resume); None: a temporary one.

    Returns
    -------
    theory.report.Report

    Raises
    ------
    byzref.errors.ConfigError
        For an unknown scale name.
    """
    from byzref.results import versions
    from theory.suite import SCALES, builtin_claims
    from theory.suite import negative_controls as negs

    if isinstance(scale, str):
        if scale not in SCALES:
            from byzref.errors import ConfigError

            raise ConfigError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
        scale = SCALES[scale]
    claims = list(builtin_claims() if claims is None else claims)
    if negative_controls:
        claims += negs()
    t0 = time.perf_counter()
    per_claim = [claim.configs(scale) for claim in claims]
    cfgs = [c for cs in per_claim for c in cs]
    # claims without runs (exact moments, component constants) are decided in a thread while the runs go
    # on: this process only waits for the workers then, and the claims' numbers do not depend on where
    # they are computed
    with ThreadPoolExecutor(1) as pool:
        early = {i: pool.submit(claims[i].evaluate, {}, scale) for i, cs in enumerate(per_claim) if not cs}
        # the default and full scales compile every combination they run (once per machine: a rerun is
        # then compiled throughout); the quick scale, a smoke test, leaves short combinations to the
        # Python loop
        records = run_all(cfgs, workers=workers, progress=progress, store_dir=store_dir,
                          compile_all=scale.name != "quick")
        results = [early[i].result() if i in early else claim.evaluate(records, scale)
                   for i, claim in enumerate(claims)]
    return Report(scale, results, time.perf_counter() - t0, len(records), versions())
