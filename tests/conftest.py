"""Test configuration: hypothesis profiles (deadline off: first-call JIT takes seconds)."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("BYZREF_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)
