"""Claim kinds, registered by name in ``CLAIM_KINDS``; importing this package registers them.

The kinds: rate and separation (:mod:`theory.claims.rate`), neighborhood, comparison and
neighborhood_map (:mod:`theory.claims.neighborhood`), batch_one, pl, bound, compressor_constants and
aggregator_kappa, and the exact kinds (:mod:`theory.claims.exact`). See :ref:`math-claims`.
"""

from theory.claims import batch, bound, constants, exact, neighborhood, pl, rate  # noqa: F401  (registers the kinds)
from theory.claims.base import BASE_RUN, CLAIM_KINDS, Claim, ClaimResult, Scale, Schedule
from theory.claims.batch import BatchOneClaim
from theory.claims.constants import AggregatorKappaClaim, CompressorConstantsClaim
from theory.claims.neighborhood import ComparisonClaim, NeighborhoodClaim
from theory.claims.pl import PLClaim
from theory.claims.rate import RateClaim, SeparationClaim

__all__ = [
           "BASE_RUN",
           "CLAIM_KINDS",
           "AggregatorKappaClaim",
           "BatchOneClaim",
           "Claim",
           "ClaimResult",
           "ComparisonClaim",
           "CompressorConstantsClaim",
           "NeighborhoodClaim",
           "PLClaim",
           "RateClaim",
           "Scale",
           "Schedule",
           "SeparationClaim",
]
