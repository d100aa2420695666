"""Theory claims as data and their verification (Li, Liu, Yi, arXiv:2603.15144).

``verify(...)`` runs the experiments behind a list of claims (built-in: :mod:`theory.suite`) and
returns a :class:`~theory.report.Report` with a PASS / FAIL / INCONCLUSIVE / NOT OBSERVED verdict per claim.
Claim kinds: rate, separation, neighborhood, comparison, neighborhood_map, batch_one, pl, bound,
compressor_constants, aggregator_kappa, and the exact kinds exact_rate, exact_plateau, exact_stability
(:mod:`theory.claims`). Exact moments of linear methods on quadratics: :mod:`theory.exact`. Fits:
:mod:`theory.fitting`; verdict rules: :mod:`theory.verdicts`.

The claims and their rules in mathematical form: :ref:`math-claims` (exact moments: :ref:`math-exact`);
writing a claim of one's own: :ref:`guide-own-claim`.
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
from theory.claims.exact import ExactPlateauClaim, ExactRateClaim, ExactStabilityClaim
from theory.claims.neighborhood import NeighborhoodMapClaim
from theory.report import Report
from theory.verdicts import FAIL, INCONCLUSIVE, NOT_OBSERVED, PASS, Verdict
from theory.verify import verify

__all__ = ["BASE_RUN", "CLAIM_KINDS", "FAIL", "INCONCLUSIVE", "NOT_OBSERVED", "PASS", "BatchOneClaim",
           "BoundClaim", "Claim", "ClaimResult", "ComparisonClaim", "ExactPlateauClaim", "ExactRateClaim",
           "ExactStabilityClaim", "NeighborhoodClaim", "NeighborhoodMapClaim", "PLClaim", "RateClaim",
           "Report", "Scale", "Schedule", "SeparationClaim", "Verdict", "verify"]
