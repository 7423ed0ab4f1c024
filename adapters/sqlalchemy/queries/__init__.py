"""SQL implementations of the query ports in application/queries."""
