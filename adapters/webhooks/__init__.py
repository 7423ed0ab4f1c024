"""Inbound webhooks: Standard Webhooks signatures and the per-source JSON mappings."""
