"""The package's public calls (``harmstudy.score_set``, …): each name and the module that defines it.

``harmstudy/__init__.py`` imports each on first use (a module-level ``__getattr__``, by
:func:`importlib.import_module`), so ``import harmstudy`` loads no stage, and no stage — which import
``harmstudy`` for its constants — reaches a higher one through it. :mod:`harmstudy.plan` reads this table
to follow a notebook's ``harmstudy.<name>`` to the module it runs.
"""

EXPORTS = {
    "score_set": "harmstudy.report.labelled_set",
    "SetResult": "harmstudy.report.labelled_set",
    "SetInputError": "harmstudy.data.set_files",
    "plan_set": "harmstudy.stats.power",
    "SetPlan": "harmstudy.stats.power",
    "run_elicitation": "harmstudy.elicit.elicitation",
    "run_judging": "harmstudy.judge.runs",
    "run_learned": "harmstudy.learn.learned_runs",
}
