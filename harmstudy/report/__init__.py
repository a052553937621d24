"""Reporting: figures, table writing, provenance, notebook records, progress bars, README numbers."""
