"""The SLA board: a static page served by the app (see `routes`)."""
