"""The README and ``docs/``, rendered from templates whose numbers come from ``figures/tables`` (never typed).

A template (``templates/README.md``, ``templates/docs/*.md``) holds each number as a reference to a table cell::

    {{judge_agreement[judge=claude-sonnet,reference=human,metric=alpha_ordinal].estimate:.2f}}

i.e. table ``figures/tables/judge_agreement.csv``, the one row matching every ``column=value`` filter,
its column ``estimate``, formatted ``.2f``. Formats: any Python format spec, ``d`` (a whole number),
``pct`` (a share as a whole percentage, ``58%``) or ``pct1`` (one decimal); none = the cell as it is (a word
such as ``above``). The rendered file carries plain numbers, under a first line that names its template.
``make paper`` renders every template; a test fails when a rendered file and its template disagree, and
another when the prose of the README (or of ``docs/``) holds a digit that is neither rendered nor a design fact
of :data:`DESIGN_FACTS` (:data:`DOC_FACTS`).

Usage: ``python -m harmstudy.report.readme [--check]``.
"""
from __future__ import annotations

import argparse
import re
import sys
from functools import lru_cache
from pathlib import Path

import pandas as pd

from harmstudy import files, paths

TEMPLATES = paths.ROOT / "templates"
REFERENCE = re.compile(r"\{\{\s*(?P<spec>[^}]+?)\s*\}\}")
SPEC = re.compile(r"(?P<table>[\w.-]+)\[(?P<filters>[^\]]*)\]\.(?P<column>\w+)(?::(?P<fmt>[^>]+))?$")
HEADER = ("<!-- Rendered by `make paper` from {template}: every number comes from figures/tables/. "
          "Edit the template, then run `make readme`. -->\n")

#: Digits the README's prose may hold without a table behind them: facts of the design, not results.
DESIGN_FACTS = (
    "17 student", "85 prompts", "85 of", "1..k", "1–5", "0–1", "WOAH 2025", "2502.05291", "Python 3.11",
    "2 cores", "two CPU cores", "95%", "GPT-4o", "7B", "135M", "270M", "0.5B", "1.5B", "Gemma-3", "Gemma 3",
    "SmolLM2", "Qwen2.5", "~1,000", "≤ 1.5B", "3 orders", "00 ", "01 ", "02 ", "03 ", "04 ", "05 ", "06 ",
    "07 ", "08 ",
)
#: What ``docs/`` may hold besides: facts of the design that the methods and data cards describe (thresholds,
#: scales, fold counts, the citation, model quantisations), none of them a result.
DOC_FACTS = DESIGN_FACTS + (
    "Q1", "Q2", "sha256", "Q4_1", "Q4_K_M", "Apache-2.0", "2025", "9th Workshop", "342–354", "21028997",
    "0.5", "0.25 of", "3 of 5", "above 0", "excludes 0", "holds 0", "≈ 0", "0 = not harmful", "1, 3 or 6",
    "4 labelled responses", "4 sheets it never saw", "5xx", "8 at a time", "60 prompts per group",
    "0.3", "4-prompt run", "12 new texts", "gemma-3-270m", "0 / 1", "05, and 06",
)


class ReadmeNumberError(ValueError):
    pass


@lru_cache(maxsize=None)
def _table(name: str, folder: str) -> pd.DataFrame:
    path = Path(folder) / f"{name}.csv"
    if not path.exists():
        raise ReadmeNumberError(f"a template refers to {path.name}, which `make paper` has not written")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


#: ``{{code:harmstudy.judge.prompt.SYSTEM}}``: a text constant of the package, as the code holds it (the
#: embedded judges' prompts in docs/models.md), so a doc never carries a pasted copy that can drift.
CODE = re.compile(r"code:(?P<module>harmstudy(?:\.\w+)*)\.(?P<name>[A-Z][A-Z0-9_]*)$")


def code_constant(spec: str) -> str:
    """The text constant a ``code:`` reference names."""
    import importlib

    m = CODE.match(spec.strip())
    if not m:
        raise ReadmeNumberError(f"reference {spec!r} is not code:harmstudy.<module>.<CONSTANT>")
    text = getattr(importlib.import_module(m["module"]), m["name"], None)
    if not isinstance(text, str):
        raise ReadmeNumberError(f"reference {spec!r}: {m['module']} has no text constant {m['name']}")
    return text


def value(spec: str, folder: Path | None = None) -> str:
    """The formatted number a reference names (or, ``code:...``, the package's text constant)."""
    if spec.strip().startswith("code:"):
        return code_constant(spec)
    m = SPEC.match(spec.strip())
    if not m:
        raise ReadmeNumberError(f"reference {spec!r} is not table[col=value,...].column:format")
    table = _table(m["table"], str(folder or paths.STUDY_FIGURES / "tables"))
    rows = table
    for cond in filter(None, (c.strip() for c in m["filters"].split(","))):
        col, _, want = cond.partition("=")
        if col not in rows.columns:
            raise ReadmeNumberError(f"{m['table']}.csv has no column {col!r} (reference {spec!r})")
        rows = rows[rows[col] == want]
    if len(rows) != 1:
        raise ReadmeNumberError(f"reference {spec!r} matches {len(rows)} rows of {m['table']}.csv, not one")
    if m["column"] not in rows.columns:
        raise ReadmeNumberError(f"{m['table']}.csv has no column {m['column']!r} (reference {spec!r})")
    raw = rows.iloc[0][m["column"]]
    fmt = m["fmt"] or ""
    if fmt in ("pct", "pct1"):
        return f"{float(raw) * 100:.{0 if fmt == 'pct' else 1}f}%"
    if fmt == "d":
        return str(int(round(float(raw))))
    if not fmt:
        return raw
    text = format(float(raw), fmt)
    return "−" + text[1:] if text.startswith("-") else text     # a minus sign, not a hyphen


def render(text: str, folder: Path | None = None) -> str:
    """``text`` with every table reference replaced by its value."""
    return REFERENCE.sub(lambda m: value(m["spec"], folder), text)


def rendered_path(template: Path, templates: Path = TEMPLATES, root: Path = paths.ROOT) -> Path:
    """Where a template renders to: ``templates/README.md`` → ``README.md``, ``templates/docs/x.md`` → ``docs/x.md``."""
    return root / template.relative_to(templates)


def render_template(template: Path, folder: Path | None = None, templates: Path = TEMPLATES) -> str:
    """The file a template renders to, header line first."""
    name = template.relative_to(templates.parent).as_posix()
    return HEADER.format(template=name) + render(template.read_text(), folder)


def templates_in(templates: Path = TEMPLATES) -> list[Path]:
    return sorted(templates.rglob("*.md"))


def prose(text: str) -> str:
    """A template's prose: without code blocks, inline code, table references, comments and link targets."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = REFERENCE.sub("", text)
    text = re.sub(r"`[^`]*`", "", text)           # inline code, also where a line break falls inside it
    return re.sub(r"\]\([^)]*\)", "]", text)


def typed_digits(text: str, allowed=DESIGN_FACTS) -> list[str]:
    """Each line of a template's prose that still holds a digit once its design facts are set aside."""
    out = []
    for line in prose(text).splitlines():
        rest = line
        for fact in allowed:
            rest = rest.replace(fact, "")
        if re.search(r"\d", rest):
            out.append(line.strip())
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="render README.md and docs/ from templates/ and figures/tables")
    ap.add_argument("--check", action="store_true", help="only list rendered files that disagree (exit 1)")
    args = ap.parse_args(argv)
    stale = 0
    for template in templates_in():
        target, text = rendered_path(template), render_template(template)
        if args.check:
            if not target.exists() or target.read_text() != text:
                stale += 1
                print(f"{target.relative_to(paths.ROOT)} is not what {template.relative_to(paths.ROOT)} renders "
                      f"to: run `make readme`", file=sys.stderr)
            continue
        changed = files.write_bytes_atomic(target, text.encode("utf-8"))
        print(f"{target.relative_to(paths.ROOT)}: {len(REFERENCE.findall(template.read_text()))} numbers from "
              f"figures/tables" + (" (rewritten)" if changed else " (unchanged)"))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
