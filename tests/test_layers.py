"""The package reads by stage: no module imports a higher layer (the import-linter contract in
pyproject.toml), and no two modules import each other, directly or round a longer loop."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_no_module_imports_a_higher_stage():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def test_no_import_cycle():
    import grimp

    graph = grimp.build_graph("harmstudy")
    modules = sorted(graph.modules)
    # a cycle is a module that can reach itself: a depth-first search from each module over direct imports
    # (grimp has no cycle query; 54 modules, so the plain search is instant)
    for start in modules:
        seen, stack = set(), list(graph.find_modules_directly_imported_by(start))
        while stack:
            module = stack.pop()
            assert module != start, f"{start} imports itself through a cycle"
            if module not in seen:
                seen.add(module)
                stack.extend(graph.find_modules_directly_imported_by(module))
