"""Fixtures of the catalog and clicks tests (defined in tests/unit/catalog/support.py)."""

from tests.unit.catalog.support import catalog_tables

__all__ = ["catalog_tables"]
