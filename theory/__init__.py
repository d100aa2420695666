"""Theory claims as data and their empirical verification (SPEC §6).

``verify(...)`` runs the experiments behind a list of claims (built-in: :mod:`theory.suite`) and
returns a :class:`~theory.report.Report` with a PASS / FAIL / INCONCLUSIVE verdict per claim.
Claim kinds: rate, separation, neighborhood, comparison, batch_one, pl, bound, compressor_constants,
aggregator_kappa (:mod:`theory.claims`). Fits: :mod:`theory.fitting`; verdict rules: :mod:`theory.verdicts`.
"""

from theory.claims import (
                           BASE_RUN,
                           CLAIM_KINDS,
                           BatchOneClaim,
                           Claim,
                           ClaimResult,
                           ComparisonClaim,
                           NeighborhoodClaim,
                           PLClaim,
                           RateClaim,
                           Scale,
                           Schedule,
                           SeparationClaim,
)
from theory.claims.bound import BoundClaim
from theory.report import Report
from theory.verdicts import FAIL, INCONCLUSIVE, PASS, Verdict
from theory.verify import verify

__all__ = ["BASE_RUN", "CLAIM_KINDS", "FAIL", "INCONCLUSIVE", "PASS", "BatchOneClaim", "BoundClaim", "Claim",
           "ClaimResult", "ComparisonClaim", "NeighborhoodClaim", "PLClaim", "RateClaim", "Report", "Scale",
           "Schedule", "SeparationClaim", "Verdict", "verify"]
