"""Who is reading: the firm's people see every customer's documents; a client viewer sees its
own customer's, and of those only what was issued to it."""

from __future__ import annotations

import attrs


@attrs.frozen
class Viewer:
    """The reader a query answers for."""

    #: A client viewer's customer (None for the firm's people, or a viewer without one).
    customer_id: str | None = None
    #: True for a client viewer: it sees one customer's issued documents only.
    scoped: bool = False

    @classmethod
    def staff(cls) -> Viewer:
        """Someone of the firm: every customer's documents, in every state."""
        return cls(None, scoped=False)

    @classmethod
    def client(cls, customer_id: str | None) -> Viewer:
        """A client viewer of one customer."""
        return cls(customer_id, scoped=True)

    def sees(self, customer_id: str) -> bool:
        """A client viewer sees its own customer's objects only; the firm sees them all."""
        return not self.scoped or customer_id == self.customer_id
