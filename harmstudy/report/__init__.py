"""Reporting: figures, table writing, notebook records, README numbers, and make's papermill entry point."""
