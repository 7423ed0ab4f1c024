"""Outbound events: the CloudEvents envelope and the signed webhook publisher (ADR 0016)."""
