"""The application workflow suite of `tests/unit/application`, collected again here so it runs
on SQLite and on PostgreSQL: pytest resolves `app` from this folder's conftest, which builds
the application on the SQL unit of work."""

from tests.unit.application.test_billing_and_closure import *  # noqa: F403
from tests.unit.application.test_commercial_setup import *  # noqa: F403
from tests.unit.application.test_idempotency import *  # noqa: F403
from tests.unit.application.test_setup_and_delivery import *  # noqa: F403
