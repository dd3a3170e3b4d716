"""Schemathesis over one front's OpenAPI spec, in-process, bounded, replayable by its seed.

Each operation gets `examples` positive and `examples` negative cases, drawn with a seed that
changes every run (printed; `FUZZ_SEED=<n>` replays one), sent with a service token so
mutating routes are exercised past 401. Every response must pass schemathesis' checks: no 5xx,
a documented status and content type, a body that matches its schema, invalid input rejected
with a 4xx, missing credentials refused.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterable
from typing import Any

import hypothesis
import schemathesis
from schemathesis import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.security.tally import tried

# Valid-looking input may still be refused by the domain (an unknown product is a 404, a
# second capture of a voided authorization a 409): those answers are right, so "positive data
# must be accepted" does not apply. Every other built-in check runs.
_EXCLUDED_CHECKS = [positive_data_acceptance]

# A new seed every run finds new cases over time; the printed one replays a failure.
SEED = int(os.environ.get("FUZZ_SEED") or random.randrange(2**32))
print(f"OpenAPI fuzz seed {SEED} (FUZZ_SEED={SEED} replays this run)", file=sys.stderr)
# Generation-speed checks only: slow fronts and large bodies are what this fuzzing is for.
_SUPPRESSED = [
    hypothesis.HealthCheck.too_slow,
    hypothesis.HealthCheck.data_too_large,
    hypothesis.HealthCheck.filter_too_much,
]


def fuzz_app(
    app: Any,
    headers: dict[str, str],
    *,
    examples: int,
    category: str,
    skip: Iterable[str] = (),
) -> dict[str, int]:
    """Fuzz every operation of `app` (blocking: run it in a thread); cases sent per operation."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    sent: dict[str, int] = {}
    skipped = set(skip)
    try:
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]
            if operation.label in skipped:
                continue
            # The spec's own examples first: they reach the happy paths random data misses.
            strategies = [
                (GenerationMode.POSITIVE, strategy, 3)
                for strategy in operation.get_strategies_from_examples()
            ]
            strategies += [
                (mode, operation.as_strategy(generation_mode=mode), examples)
                for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            ]
            for mode, strategy, budget in strategies:
                count = _run_cases(strategy, mode, headers, budget)
                sent[operation.label] = sent.get(operation.label, 0) + count
                tried(category, count)
    finally:
        # The app's lifespan (pools, Redis clients) ran in schemathesis' own event loop.
        asgi.shutdown_lifespans()
    return sent


def _vanishing_query(case: Any, mode: GenerationMode) -> bool:
    query = getattr(case, "query", None) or {}
    return mode is GenerationMode.NEGATIVE and any(v == [] for v in query.values())


def _run_cases(strategy: Any, mode: GenerationMode, headers: dict[str, str], examples: int) -> int:
    count = 0

    @hypothesis.seed(SEED)
    @hypothesis.given(case=strategy)
    @hypothesis.settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=_SUPPRESSED,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate, hypothesis.Phase.shrink],
    )
    def check(case: Any) -> None:
        nonlocal count
        # schemathesis may "break" a request with an extra query parameter whose value is an
        # empty list, which serializes to nothing: the request sent is valid, and a 200 is
        # then right. Such a case tests nothing, so it is drawn again.
        hypothesis.assume(not _vanishing_query(case, mode))
        count += 1
        response = case.call(headers=headers)
        case.validate_response(response, excluded_checks=_EXCLUDED_CHECKS, headers=headers)

    try:
        check()
    except hypothesis.errors.Unsatisfiable:
        # An operation without any input has no invalid form to send.
        if mode is not GenerationMode.NEGATIVE:
            raise
    return count
