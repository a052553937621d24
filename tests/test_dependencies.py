"""What the package and the notebooks import is what pyproject.toml declares (and requirements.lock pins):
no distribution arrives only as another one's dependency, and none is declared that nothing uses."""
from __future__ import annotations

import ast
import functools
import importlib.metadata
import json
import re
import sys
import tomllib

from project_copy import REPO

#: declared, used, but never imported by the package or a notebook: why each is there
RUN_NOT_IMPORTED = {
    "jupyterlab": "make lab",
    "ipykernel": "the harmstudy kernel papermill runs every notebook in",
    "ipywidgets": "tqdm.auto's progress bars inside a notebook",
    "openpyxl": "pandas.read_excel, for a student sheet handed in as .xlsx (harmstudy/data/release.py)",
}


def normal(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return {normal(re.split(r"[\[<>=~ ;]", d.strip(), maxsplit=1)[0]) for d in deps}


def imported_modules(source: str) -> set[str]:
    """The top-level names of every absolute import in ``source`` (inside functions too)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def sources():
    for path in sorted((REPO / "harmstudy").rglob("*.py")):
        yield path.relative_to(REPO).as_posix(), path.read_text(encoding="utf-8")
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "code":
                code = "".join(cell["source"])
                # IPython's magics and shell lines are not Python
                code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in code.split("\n"))
                yield path.relative_to(REPO).as_posix(), code


@functools.lru_cache(maxsize=1)
def imports() -> dict[str, set[str]]:
    """Each third-party module the package and the notebooks import, with the files that import it."""
    out: dict[str, set[str]] = {}
    for name, code in sources():
        for module in imported_modules(code) - set(sys.stdlib_module_names) - {"harmstudy", "__future__"}:
            out.setdefault(module, set()).add(name)
    return out


def test_the_import_reader_sees_imports_inside_functions_and_skips_relative_ones():
    code = "import a.b as c\nfrom d.e import f\nfrom . import g\ndef h():\n    import i\n"
    assert imported_modules(code) == {"a", "d", "i"}


def test_every_imported_distribution_is_declared_and_every_declared_one_is_used():
    where = importlib.metadata.packages_distributions()
    unknown = {m: files for m, files in imports().items() if m not in where}
    assert unknown == {}, f"imported, but no installed distribution provides them: {unknown}"
    provides = {m: {normal(d) for d in where[m]} for m in imports()}
    wanted = declared()
    # a module that several distributions provide counts when one of them is declared
    missing = {m: sorted(imports()[m]) for m, dists in provides.items() if not dists & wanted}
    assert missing == {}, f"imported but not in pyproject.toml's dependencies: {missing}"
    imported = set().union(*provides.values())
    unused = wanted - set(imported) - set(RUN_NOT_IMPORTED)
    assert unused == set(), f"declared, never imported and not in RUN_NOT_IMPORTED: {unused}"
    assert set(RUN_NOT_IMPORTED) <= wanted and not set(RUN_NOT_IMPORTED) & set(imported)


def test_the_lock_pins_each_declared_distribution_at_the_installed_version():
    pins = {normal(name): version for name, version in
            (line.split("==") for line in (REPO / "requirements.lock").read_text().splitlines() if "==" in line)}
    for dist in declared():
        assert dist in pins, f"{dist}: not pinned in requirements.lock"
        assert pins[dist] == importlib.metadata.version(dist), f"{dist}: the lock pins {pins[dist]}"
