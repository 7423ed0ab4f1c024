"""The default tax engine (ADR 0030): the effective-dated tax tables the ERP sends us.

A deployment with an external tax service replaces it in the composition root with a client
that implements the same `TaxEngine` port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.ids import CustomerId, LegalEntityId
from domain.tax import (
    TaxProfile,
    TaxQuestion,
    TaxRateNotFoundError,
    TaxRateTable,
    TaxTreatment,
    TaxTreatmentMissingError,
    TaxUnresolved,
    table_treatment,
)


class TableTaxEngine:
    """Answers each question from the payer's tax profile and the rate table, exactly as the
    billing run does when it is given no engine."""

    def treatments(
        self,
        questions: Sequence[TaxQuestion],
        profiles: Mapping[tuple[CustomerId, LegalEntityId], TaxProfile],
        known_rates: TaxRateTable,
    ) -> Mapping[TaxQuestion, TaxTreatment | TaxUnresolved]:
        """A code with no rate on the tax date is answered as unresolved: the run then blocks
        that payer's contract with `tax_rate_not_found`, as it does without an engine."""
        answers: dict[TaxQuestion, TaxTreatment | TaxUnresolved] = {}
        for q in questions:
            profile = profiles.get((q.customer_id, q.legal_entity_id))
            if profile is None:
                answers[q] = TaxUnresolved(
                    TaxTreatmentMissingError.code,
                    f"customer {q.customer_id} has no tax profile with {q.legal_entity_id}",
                )
                continue
            try:
                answers[q] = table_treatment(profile, q.category, known_rates, q.tax_date)
            except TaxRateNotFoundError as error:
                answers[q] = TaxUnresolved(error.code, str(error))
        return answers
