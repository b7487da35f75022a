"""Alerts before and at breach: ids, the outbox scheduler, webhook and subscription delivery."""
