"""reportgen: readiness packs from CAVRA rollback-drill evidence."""

__version__ = "0.1.0"
