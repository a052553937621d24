"""The README's numbers, rendered from ``figures/tables`` (never typed).

A number in the README stands between two markers that say where it comes from::

    <!--v judge_agreement[judge=claude-sonnet,reference=human,metric=alpha_ordinal].estimate:.2f-->0.44<!--/v-->

i.e. table ``figures/tables/judge_agreement.csv``, the one row matching every ``column=value`` filter,
its column ``estimate``, formatted ``.2f``. Formats: any Python format spec, ``pct`` (a share as a whole
percentage, ``58%``) or ``pct1`` (one decimal). ``make paper`` rewrites the README; a test fails when
the README and the tables disagree.

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

MARKER = re.compile(r"<!--v (?P<spec>[^>]+?)-->(?P<value>.*?)<!--/v-->", re.S)
SPEC = re.compile(r"(?P<table>[\w.-]+)\[(?P<filters>[^\]]*)\]\.(?P<column>\w+)(?::(?P<fmt>[^>]+))?$")


class ReadmeNumberError(ValueError):
    pass


@lru_cache(maxsize=None)
def _table(name: str, folder: str) -> pd.DataFrame:
    path = Path(folder) / f"{name}.csv"
    if not path.exists():
        raise ReadmeNumberError(f"README number refers to {path.name}, which `make paper` has not written")
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def value(spec: str, folder: Path | None = None) -> str:
    """The formatted number a marker's spec names."""
    m = SPEC.match(spec.strip())
    if not m:
        raise ReadmeNumberError(f"README marker {spec!r} is not table[col=value,...].column:format")
    table = _table(m["table"], str(folder or paths.STUDY_FIGURES / "tables"))
    rows = table
    for cond in filter(None, (c.strip() for c in m["filters"].split(","))):
        col, _, want = cond.partition("=")
        if col not in rows.columns:
            raise ReadmeNumberError(f"{m['table']}.csv has no column {col!r} (marker {spec!r})")
        rows = rows[rows[col] == want]
    if len(rows) != 1:
        raise ReadmeNumberError(f"marker {spec!r} matches {len(rows)} rows of {m['table']}.csv, not one")
    raw = rows.iloc[0][m["column"]]
    fmt = m["fmt"] or ""
    if fmt in ("pct", "pct1"):
        return f"{float(raw) * 100:.{0 if fmt == 'pct' else 1}f}%"
    if fmt == "d":
        return str(int(float(raw)))
    return format(float(raw), fmt) if fmt else raw


def render(text: str, folder: Path | None = None) -> str:
    """``text`` with every marked number replaced by its value from the tables."""
    return MARKER.sub(lambda m: f"<!--v {m['spec']}-->{value(m['spec'], folder)}<!--/v-->", text)


def stale_numbers(text: str, folder: Path | None = None) -> list[tuple[str, str, str]]:
    """(spec, in the README, in the tables) for every marked number that disagrees."""
    return [(m["spec"], m["value"], value(m["spec"], folder)) for m in MARKER.finditer(text)
            if m["value"] != value(m["spec"], folder)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="render the README's numbers from figures/tables")
    ap.add_argument("--check", action="store_true", help="only report numbers that disagree (exit 1)")
    ap.add_argument("--readme", default=str(paths.ROOT / "README.md"))
    args = ap.parse_args(argv)
    readme = Path(args.readme)
    text = readme.read_text()
    if args.check:
        stale = stale_numbers(text)
        for spec, was, now in stale:
            print(f"README says {was} where the tables say {now}: {spec}", file=sys.stderr)
        return 1 if stale else 0
    changed = files.write_bytes_atomic(readme, render(text).encode("utf-8"))
    print(f"{readme.name}: {len(MARKER.findall(text))} numbers from figures/tables"
          + (" (rewritten)" if changed else " (unchanged)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
