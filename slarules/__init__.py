"""slarules: an SLA policy engine for help desks (rules as config)."""

__version__ = "0.1.0"
