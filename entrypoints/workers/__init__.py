"""Processes that run beside the API: the outbox relay."""
