"""Settings every test shares.

Hypothesis: no per-example deadline and no "too slow" health check, because a timing is not a
business rule and a loaded machine must not fail a property (speed is measured by `make bench`);
and every failure prints the blob that replays it (`@reproduce_failure`), so a rare
counterexample found in CI is never lost.
"""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "throughline",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile("throughline")
