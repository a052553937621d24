"""Numbers a notebook records for readers and for the papermill smoke tests to read back."""
from __future__ import annotations

import json

RECORD_MIME = "application/vnd.harmstudy.record+json"


def record(**values) -> dict:
    """Show ``values`` in the notebook and store them under a private mimetype in its output."""
    from IPython.display import display

    clean = json.loads(json.dumps(values, default=float))
    display({RECORD_MIME: clean, "text/plain": json.dumps(clean, indent=1)}, raw=True)
    return clean


def recorded_values(notebook_path) -> dict:
    """All values recorded by :func:`record` in an executed notebook, merged in cell order."""
    import nbformat       # here, not at the top: its JSON-schema import costs seconds in every notebook

    nb = nbformat.read(str(notebook_path), as_version=4)
    out: dict = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if RECORD_MIME in data:
                out.update(data[RECORD_MIME])
    return out
