"""harmstudy.cores: notebooks make started share the cores with each other, and a model run has them alone."""
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# a notebook's kernel: imports harmstudy (which shares the cores), says so, stays until told to go
NOTEBOOK = ("import sys, time; from pathlib import Path; import harmstudy; log = Path(sys.argv[1]);"
            "open(log, 'a').write(sys.argv[2] + ' in\\n')\n"
            "while 'go' not in log.read_text(): time.sleep(0.05)\n"
            "open(log, 'a').write(sys.argv[2] + ' out\\n')")
MODEL = ("import sys; from harmstudy import cores; cores.hold_exclusive();"
         "open(sys.argv[1], 'a').write('model in\\n')")


def wait_for(log: Path, line: str, procs) -> None:
    deadline = time.time() + 60
    while not (log.exists() and line in log.read_text().splitlines()):
        assert all(p.poll() is None for p in procs), f"a process ended before {line!r}"
        assert time.time() < deadline, f"no {line!r} within a minute"
        time.sleep(0.05)


def test_notebooks_share_the_cores_and_a_model_waits_for_them(tmp_path):
    log = tmp_path / "log.txt"
    env = {**os.environ, "HARMSTUDY_MODEL_LOCK": str(tmp_path / "lock"),
           "HARMSTUDY_NOTEBOOK_RUNNER": str(os.getpid())}           # this process starts the "kernels"
    a = subprocess.Popen([sys.executable, "-c", NOTEBOOK, str(log), "A"], cwd=REPO, env=env)
    wait_for(log, "A in", [a])
    b = subprocess.Popen([sys.executable, "-c", NOTEBOOK, str(log), "B"], cwd=REPO, env=env)
    wait_for(log, "B in", [a, b])                                  # B did not wait for A
    model = subprocess.Popen([sys.executable, "-c", MODEL, str(log)], cwd=REPO, env=env,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    assert "model in" not in log.read_text()                      # the model waits while notebooks run
    with open(log, "a") as f:
        f.write("go\n")
    assert a.wait(timeout=60) == 0 and b.wait(timeout=60) == 0 and model.wait(timeout=60) == 0
    lines = log.read_text().splitlines()
    assert lines.index("model in") > max(lines.index("A out"), lines.index("B out"))
    assert "waiting for another notebook's model run, or the notebooks beside it, to finish" in model.stderr.read()


def test_a_process_that_make_did_not_start_as_a_kernel_takes_no_lock(tmp_path):
    # e.g. make's own notebook runner when `!make paper` is typed in a notebook: it inherits the variable
    # with its kernel's parent's id, which is not its own parent
    log = tmp_path / "log.txt"
    env = {**os.environ, "HARMSTUDY_MODEL_LOCK": str(tmp_path / "lock"), "HARMSTUDY_NOTEBOOK_RUNNER": "1"}
    a = subprocess.Popen([sys.executable, "-c", NOTEBOOK, str(log), "A"], cwd=REPO, env=env)
    wait_for(log, "A in", [a])
    subprocess.run([sys.executable, "-c", MODEL, str(log)], cwd=REPO, env=env, check=True, timeout=60)
    assert "model in" in log.read_text()                          # it did not wait for A
    with open(log, "a") as f:
        f.write("go\n")
    assert a.wait(timeout=60) == 0
