"""``make external-plan``: how precise a labelled set of a given size is, before (or after) people label it.

With ``SET=`` (and ``HUMAN=``, as ``make external`` takes them) the set's own rows are resampled; without it,
the study's (:mod:`harmstudy.data.planning`) at ``ROWS=`` rows. Prints :meth:`harmstudy.stats.power.SetPlan.summary`
and the half-widths at each size drawn; writes nothing. Every value arrives through the environment
(``HS_<NAME>``, set by the Makefile from ``$(value NAME)``), never on a shell line.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from harmstudy.data import scored_responses, set_files
from harmstudy.data.set_files import words
from harmstudy.stats import power

#: below this many rows a user's set is a rough guide to its own spread, and the plan says so
FEW_ROWS = 50


def arguments(argv=None) -> argparse.Namespace:
    env = os.environ.get
    ap = argparse.ArgumentParser(prog="make external-plan", description=__doc__.split("\n\n")[0])
    for name, default in [("set", ""), ("request", "request"), ("response", "response"), ("human", ""),
                          ("scale", "binary"), ("verdicts", ""), ("group", ""), ("encoding", ""), ("sep", ""),
                          ("dedupe", ""), ("rows", ""), ("raters", ""), ("groups", ""), ("n_boot", str(power.N_BOOT))]:
        ap.add_argument(f"--{name.replace('_', '-')}", default=env(f"HS_{name.upper()}", default) or default)
    return ap.parse_args(argv)


def whole(text: str, name: str, least: int = 1) -> int | None:
    if not str(text).strip():
        return None
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < least:
        raise set_files.SetInputError(f"{name}={text}: a whole number, {least} or more")
    return value


def plan(args: argparse.Namespace) -> power.SetPlan:
    rows, raters = whole(args.rows, "ROWS", 2), whole(args.raters, "RATERS")
    groups, n_boot = whole(args.groups, "GROUPS"), whole(args.n_boot, "N_BOOT", 10)
    scale = set_files.parse_scale(args.scale)
    if not args.set:
        if rows is None:
            raise set_files.SetInputError('make external-plan needs ROWS=<n> (the study\'s rows are resampled) or '
                                          'SET=<file> HUMAN="<column> ..." (your rows are)')
        return power.plan_set(rows, n_raters=raters, scale=scale, groups=groups, n_boot=n_boot)
    human, verdicts = words(args.human), words(args.verdicts)
    if not human:
        raise set_files.SetInputError('make external-plan SET=... needs HUMAN="<column> ..." (the human label columns)')
    spec = set_files.SetSpec(path=str(Path(args.set).expanduser()), request=args.request, response=args.response,
                             human=human, scale=args.scale, verdicts=verdicts, category=args.group,
                             encoding=args.encoding, sep=args.sep, dedupe=args.dedupe)
    checked = set_files.check_set(spec)                  # the group column is checked as a category would be
    loaded = scored_responses.load_user_set(spec, checked, Path(spec.path).stem).scores
    if args.group:
        loaded["group"] = checked.frame[args.group].to_numpy()
    reference = power.reference_from_scores(
        loaded, [f"human_{k}" for k in range(1, len(human) + 1)],
        [f"{scored_responses.VERDICT_PREFIX}{v}" for v in verdicts], scale=scale,
        group="group" if args.group else None, name=f"{Path(spec.path).name}'s own rows")
    n = len(loaded)
    if args.group and groups is None:
        distinct = loaded["group"].nunique()
        groups = max(1, round(distinct * (rows or n) / n))
    result = power.plan_set(rows or n, n_raters=raters, scale=scale, groups=groups if args.group else None,
                            reference=reference, n_boot=n_boot)
    if n < FEW_ROWS:
        result = dataclasses.replace(result, notes=result.notes + (
            f"the set has {n} rows: their spread is a rough guide; label more, or plan from the study's rows "
            f"(leave SET= out, give ROWS=)",))
    return result


def run(argv=None) -> int:
    try:
        result = plan(arguments(argv))
    except (set_files.SetInputError, ValueError) as exc:
        print(f"make external-plan: {exc}", file=sys.stderr)
        return 2
    print(result.summary())
    print("At each size drawn (95% CI half-widths; the smallest difference two judges' κ must differ by):")
    print(result.by_size.dropna(axis=1, how="all").round(3).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(run())
