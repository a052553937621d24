"""``python -m harmstudy.report.run_notebook ARGS`` is the ``papermill ARGS`` command, started ~2.7 s sooner.

papermill imports nbformat, nbformat imports jsonschema, and jsonschema imports ``rfc3987_syntax`` when it
is installed (JupyterLab's jupyter-events installs it), which compiles ~40 Lark grammars at import: 2.7 s
on these cores, paid by every notebook ``make paper`` runs (11; five of them one after the other). The
notebook schemas nbformat validates against check no string format, so that module is blocked here —
jsonschema skips a validator whose import fails — and everything else is papermill's own command line.
"""
import sys

sys.modules.setdefault("rfc3987_syntax", None)      # `import rfc3987_syntax` now raises ImportError

from papermill.cli import papermill  # noqa: E402

if __name__ == "__main__":
    sys.exit(papermill())
