"""The machine's cores, shared between the notebooks ``make paper`` runs side by side.

While ``$HARMSTUDY_MODEL_LOCK`` names a file (make sets it for every notebook it runs), a notebook's kernel
holds that file *shared* from the moment it imports :mod:`harmstudy`, and a process that computes with a
model (:func:`harmstudy.models.registry.load_llama`) holds it *exclusively* until it ends. So notebooks
that only compute statistics run side by side, and a model runs alone on every core. This is a readers-writer
lock on one file (``fcntl.flock``); no library here offers one across processes.

Why: llama.cpp's threads spin while they wait for each other. Beside a notebook that keeps a core busy they
are not merely halved but stalled: the SmolLM2 judge of a student's triples took many times as long beside
03 and 06 as alone (``make paper N_PROMPTS=4 N_ITEMS=6 JUDGE=llamacpp/smollm2-135m-instruct`` on two cores
shows it).

The operating system releases the lock when the process ends, even after a crash. Without the variable:
nothing is locked. Standard library only.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

MODEL_LOCK_ENV = "HARMSTUDY_MODEL_LOCK"
#: Set by ``harmstudy.report.run_notebook`` to its own process id, for the kernel it starts. A kernel shares
#: the cores only when its parent is that process: ``!make paper`` typed in a notebook (whose shell inherits
#: the variable) must not take the lock in make's own processes, which would wait on their own kernels.
RUNNER_ENV = "HARMSTUDY_NOTEBOOK_RUNNER"

_handle = None
_mode = None          # "shared" or "exclusive"


def _lock_path() -> str:
    return os.environ.get(MODEL_LOCK_ENV, "").strip()


def _lock(flag: int, wait_message: str) -> None:
    import fcntl

    try:
        fcntl.flock(_handle, flag | fcntl.LOCK_NB)
    except BlockingIOError:
        print(wait_message, file=sys.stderr, flush=True)
        fcntl.flock(_handle, flag)


def _open() -> bool:
    global _handle
    path = _lock_path()
    if not path:
        return False
    if _handle is None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        _handle = open(path, "a")                  # noqa: SIM115 - kept open: the lock lives with the handle
    return True


def share_if_notebook_of_make() -> None:
    """In a kernel started by make's notebook runner: hold the lock shared (wait while a model runs)."""
    global _mode
    if _mode is not None or os.environ.get(RUNNER_ENV) != str(os.getppid()) or not _open():
        return
    import fcntl

    _lock(fcntl.LOCK_SH, f"waiting for another notebook's model run to finish (lock {_lock_path()}) ...")
    _mode = "shared"


def hold_exclusive() -> None:
    """Wait until no other process holds the lock, then hold it alone until this process ends."""
    global _mode
    if _mode == "exclusive" or not _open():
        return
    import fcntl

    # flock converts a shared lock by releasing it first, so two notebooks converting at once do not deadlock
    _lock(fcntl.LOCK_EX, f"waiting for another notebook's model run, or the notebooks beside it, to finish (lock {_lock_path()}) ...")
    _mode = "exclusive"
