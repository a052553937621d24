"""The coverage simulation (:func:`harmstudy.stats.coverage.coverage_table`), stored as a run.

At the study's size it takes about a minute and a half on two cores and depends on nothing but its settings,
its code and the numerical packages, so it is computed once and read back by that fingerprint
(:meth:`harmstudy.runs.Run.stored_or_computed`, the mechanism of every stored computation here): ``make paper``
from the committed runs does not simulate again, and a change to the simulation's code does.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harmstudy import plan
from harmstudy.runs import Run, content_fingerprint
from harmstudy.stats import coverage

RUN = "ci-coverage"
KIND = "coverage-simulation"
PACKAGES = ("numpy", "scipy", "statsmodels", "pandas")


def study_settings(n_boot: int) -> dict:
    """Notebook 04's simulation size for its ``n_boot``: a quarter as many replicates, half as many resamples."""
    return {"replicates": max(n_boot // 4, 2), "n_boot": max(n_boot // 2, 10)}


def run_name(settings: dict) -> str:
    """``ci-coverage`` at the study's size (``n_boot`` 1000); other sizes get a run of their own, so a small
    run never rewrites the committed one: ``ci-coverage-r5-b10``."""
    if settings == study_settings(1000):
        return RUN
    return f"{RUN}-r{settings['replicates']}-b{settings['n_boot']}"


@dataclass(frozen=True)
class StoredCoverage:
    """:func:`stored_coverage_table`: the ``ci_coverage`` table and ``said``, the line saying whether it was
    read back or simulated and stored."""

    table: pd.DataFrame
    said: str


def stored_coverage_table(n_boot: int, root=None) -> StoredCoverage:
    """The ``ci_coverage`` table, simulated once per size and code and stored, then read back."""
    settings = study_settings(n_boot)
    folder = Run(run_name(settings), KIND, root=root)
    code = [plan.PACKAGE.parent / f for f in plan.package_files([f"import {coverage.__name__}"])]
    tables, reused, seconds = folder.stored_or_computed(
        content_fingerprint(settings, [], code, packages=PACKAGES),
        lambda: {"ci_coverage": coverage.coverage_table(**settings)}, settings=settings)
    how = (f"read from {folder.path.name} (its fingerprint is this run's; simulating took {seconds:.0f} s)"
           if reused else f"simulated in {seconds:.0f} s, stored in {folder.path.name}")
    return StoredCoverage(tables["ci_coverage"], f"coverage simulation: {how}")
