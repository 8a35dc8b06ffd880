"""The Jinja templates and the stylesheet of the readiness pack (package data, no code)."""
