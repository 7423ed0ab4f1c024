"""The composition root taxes from our own tables by default (ADR 0030), and a deployment
replaces the tax engine in one place: the container's `tax_engine` provider."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dependency_injector import providers

from adapters.memory import SequentialIds
from adapters.tax import TableTaxEngine
from domain.tax import TaxTreatment
from entrypoints.composition.bootstrap import compose
from entrypoints.composition.container import Container
from entrypoints.composition.database import MemoryDatabase
from entrypoints.composition.externals import Externals
from entrypoints.composition.settings import Settings
from tests.unit.application.conftest import start_clock
from tests.unit.application.test_tax_engine import FakeTaxEngine


def external_tax_service() -> FakeTaxEngine:
    """Stands in for a deployment's tax service client."""
    return FakeTaxEngine(TaxTreatment("GST15", Decimal("0.15"), "GST registered"))


pytestmark = pytest.mark.usefixtures("fresh_container")


def test_the_composition_root_taxes_from_our_tables_unless_given_an_engine() -> None:
    default = compose(MemoryDatabase(), start_clock(), SequentialIds(), Externals())
    assert isinstance(default.deps.tax_engine, TableTaxEngine)
    service = external_tax_service()
    replaced = compose(
        MemoryDatabase(), start_clock(), SequentialIds(), Externals(), tax_engine=service
    )
    assert replaced.deps.tax_engine is service


def test_a_deployment_replaces_the_tax_engine_through_the_container() -> None:
    container = Container()
    container.settings.override(providers.Object(Settings("memory://")))
    container.database.override(providers.Object(MemoryDatabase()))
    assert isinstance(container.handler_dependencies().tax_engine, TableTaxEngine)
    service = external_tax_service()
    container.reset_singletons()
    container.tax_engine.override(providers.Object(service))
    assert container.handler_dependencies().tax_engine is service
    assert container.bus().deps is container.handler_dependencies()
