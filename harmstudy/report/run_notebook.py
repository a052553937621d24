"""``python -m harmstudy.report.run_notebook ARGS`` is the ``papermill ARGS`` command, started seconds sooner,
with its kernel on a local socket instead of TCP.

papermill imports nbformat, nbformat imports jsonschema, and jsonschema imports ``rfc3987_syntax`` when it
is installed (JupyterLab's jupyter-events installs it), which compiles dozens of Lark grammars at import,
paid by every notebook ``make paper`` runs (``benchmarks/`` measures the runner). The
notebook schemas nbformat validates against check no string format, so that module is blocked here —
jsonschema skips a validator whose import fails — and everything else is papermill's own command line.

The kernel papermill starts talks to it over IPC (Unix sockets in a private temporary folder), not TCP on
127.0.0.1: nothing else on the machine can connect to it, and ipykernel does not print its "Kernel is running
over TCP without encryption … susceptible to eavesdropping" WARNING before every notebook, which a user of
``make`` could do nothing about. papermill's command line has no option for the kernel manager, but its
engines pass their keyword arguments to nbclient, whose ``kernel_manager_class`` names one: this command line
runs papermill with ``--engine harmstudy``, an engine registered in papermill's registry
(:class:`LocalSocketEngine`) that passes :class:`LocalSocketKernelManager`. Nothing of jupyter_client's or
papermill's is replaced (an ``--engine`` given on the command line still wins: the last one counts).
"""
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.modules.setdefault("rfc3987_syntax", None)      # `import rfc3987_syntax` now raises ImportError

import jupyter_client  # noqa: E402
from traitlets import CaselessStrEnum  # noqa: E402

from harmstudy import cores  # noqa: E402


class LocalSocketKernelManager(jupyter_client.AsyncKernelManager):
    """A kernel on Unix sockets in a folder of its own (mode 700), removed with the kernel's files."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    def _ip_default(self) -> str:
        # for IPC the "ip" is the sockets' path prefix (jupyter_client appends -<port>)
        folder = tempfile.mkdtemp(prefix="harmstudy-kernel-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)      # when papermill is done
        return str(Path(folder) / "kernel")


# The kernel this process starts shares the cores with the notebooks beside it (harmstudy.cores); it checks
# that its parent is this process, so a `!make` typed inside that kernel does not inherit the role.
os.environ[cores.RUNNER_ENV] = str(os.getpid())

from papermill.cli import papermill  # noqa: E402
from papermill.engines import NBClientEngine, papermill_engines  # noqa: E402


class LocalSocketEngine(NBClientEngine):
    """papermill's nbclient engine with the kernel on local sockets (:class:`LocalSocketKernelManager`)."""

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):
        kwargs.setdefault("kernel_manager_class", LocalSocketKernelManager)
        return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)


ENGINE = "harmstudy"
papermill_engines.register(ENGINE, LocalSocketEngine)


def main(argv=None):
    """papermill's command line, its engine :data:`ENGINE` unless ``argv`` names another."""
    args = list(sys.argv[1:] if argv is None else argv)
    return papermill.main(args=["--engine", ENGINE, *args], prog_name="papermill")


if __name__ == "__main__":
    sys.exit(main())
