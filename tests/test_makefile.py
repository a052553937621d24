"""The Makefile's plan, checked without running a notebook: every notebook recipe replaced by a script that
logs when it starts and ends and touches nothing itself (the rule's own `touch` of its outputs stays).

* From any starting timestamps, `make paper` leaves nothing stale: each member of each grouped target is made
  older than everything in turn, `make paper` runs, and `make -q paper` must then answer 0. (With GNU make 4.3
  a consumer of one member of a group used to start while the group's recipe still ran, then be stale.)
* A notebook run starts only after every notebook run it reads from has ended.
* figures/ holds exactly what `make paper` declares it writes: nothing stale, nothing unmade.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from project_copy import project_copy

REPO = Path(__file__).resolve().parent.parent

FAKE_PAPERMILL = """#!/usr/bin/env bash
# $1: the notebook, $2: its executed copy (make's arguments to papermill)
echo "start $(basename "$2" .ipynb) $(date +%s.%N)" >> "$LOG"
sleep 0.05
echo "end $(basename "$2" .ipynb) $(date +%s.%N)" >> "$LOG"
"""


@pytest.fixture(scope="module")
def fake_make(tmp_path_factory):
    parent = tmp_path_factory.mktemp("makefile")
    root, env = project_copy(parent)
    fake = parent / "papermill.sh"
    fake.write_text(FAKE_PAPERMILL)
    fake.chmod(0o755)
    log = parent / "runs.log"
    env = {**env, "LOG": str(log)}
    args = ["make", "-s", "-C", str(root), "-o", ".venv/.harmstudy-installed", f"PAPERMILL={fake}", "announce=",
            "announce_embeddings=", "RENDER_README=touch README.md"]

    def make(*extra: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([*args, *extra], env=env, capture_output=True, text=True)
        if check:
            assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        return result

    def runs() -> list[tuple[str, str, float]]:
        if not log.exists():
            return []
        events = [line.split() for line in log.read_text().splitlines()]
        log.unlink()
        return [(kind, name, float(t)) for kind, name, t in events]

    # a consistent start: every output older than its inputs, so that everything runs once
    for out in (root / "figures").rglob("*"):
        os.utime(out, (1, 1))
    make("paper")
    runs()
    return root, make, runs


def outputs(make) -> list[str]:
    return make("print-outputs").stdout.split()


def test_make_paper_from_any_stale_member_leaves_nothing_stale(fake_make):
    root, make, runs = fake_make
    assert make("-q", "paper", check=False).returncode == 0
    groups = 0
    for name in outputs(make):
        path = root / name
        if name == "README.md" or name.startswith("docs/") or name.endswith("MANIFEST.json"):
            continue
        os.utime(path, (2, 2))                                     # older than anything it is made from
        make("paper")
        ran = runs()
        assert ran, f"{name} was older than its inputs, yet no notebook ran"
        assert make("-q", "paper", check=False).returncode == 0, f"stale after `make paper` when {name} was old"
        groups += 1
    assert groups >= 50


def test_a_notebook_starts_only_after_what_it_reads_has_been_written(fake_make):
    root, make, runs = fake_make
    for out in (root / "figures").rglob("*"):                  # every output stale: every notebook runs
        os.utime(out, (2, 2))
    make("paper")
    ran = runs()
    start = {n: t for kind, n, t in ran if kind == "start"}
    end = {n: t for kind, n, t in ran if kind == "end"}
    reads = {"01_elicit": ["00_data"], "03_learned_judges": ["01_elicit"], "02_judge_elicit": ["01_elicit"],
             "04_agreement": ["00_data", "02_judge", "02_judge_orders", "02_pointwise_judge", "02_fewshot_judge",
                              "03_learned_judges"],
             "05_small_models": ["02_judge_elicit", "03_learned_judges", "04_agreement"],
             "08_transfer_matrix": ["06_external_sets", "03_learned_judges"]}
    assert {n for n in reads} | {u for us in reads.values() for u in us} <= set(start)
    for notebook, upstream in reads.items():
        for u in upstream:
            assert start[notebook] >= end[u], f"{notebook} started before {u} ended"


def test_figures_holds_exactly_what_make_paper_declares(fake_make):
    _, make, _ = fake_make
    declared = {n for n in outputs(make) if n.startswith("figures/")}
    present = {p.relative_to(REPO).as_posix() for p in (REPO / "figures").rglob("*") if p.is_file()}
    assert present - declared == set(), "in figures/ but made by no make rule"
    assert declared - present == set(), "declared by make but not committed"


def makefile_parameters(text: str) -> set[str]:
    """The variables the Makefile lets a user set, read from its text: every `NAME ?=` default, every name
    it reads with $(value NAME) / $(origin NAME), and the members of a list it reads that way in a
    $(foreach v,$(LIST),... $(value $(v)) ...)."""
    import re

    text = re.sub(r"^[ \t]*#[^\n]*", "", text, flags=re.M)           # comments name variables in prose
    names = set(re.findall(r"^([A-Z][A-Z0-9_]*)\s*\?=", text, flags=re.M))
    names |= set(re.findall(r"\$\((?:value|origin) ([A-Z][A-Z0-9_]*)\)", text))
    for var, listed in re.findall(r"\$\(foreach (\w+),\$\(([A-Z][A-Z0-9_]*)\),[^\n]*\$\((?:value|origin) \$\(\1\)\)", text):
        members = re.search(rf"^{listed}\s*:?=(.*)$", text, flags=re.M)
        assert members, f"{listed} is read through $(value ...) but never assigned"
        names |= set(members[1].split())
    return names


def test_make_help_lists_every_parameter_the_makefile_reads():
    import re

    read = makefile_parameters((REPO / "Makefile").read_text())
    assert {"JUDGE", "N_BOOT", "PYTHON", "VENV", "JOBS", "SET", "DEDUPE", "OUT", "TEST_JOBS", "LAB_ARGS"} <= read
    shown = subprocess.run(["make", "-s", "help"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    listed = set(re.findall(r"^  ([A-Z][A-Z0-9_]*)(?:=|\s)", shown, flags=re.M))
    assert read - listed == set(), "the Makefile reads these, make help does not list them"
    assert listed - read == set(), "make help lists these, the Makefile never reads them"


def test_the_parameter_reader_sees_each_way_a_makefile_reads_one():
    text = ("A ?= 1\nL := B C\n$(foreach v,$(L),$(eval x: export HS_$(v) := $$(value $(v))))\n"
            "y = $(if $(filter command line,$(origin D)),$(value E))\nF := 2\nG = $(F)\n# $(value H)\n")
    assert makefile_parameters(text) == {"A", "B", "C", "D", "E"}


def test_make_B_installs_nothing_while_the_venv_stamp_holds_the_install_files_hash(tmp_path):
    """The venv's stamp holds a hash of pyproject.toml and the lock files: `make -B` (every target remade) and
    a touched file install nothing while it matches; another hash installs again (dry runs: `make -n`)."""
    from harmstudy import plan

    stamp = tmp_path / "installed"

    def dry(*args: str) -> str:
        return subprocess.run(["make", "-n", f"STAMP={stamp}", *args], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout

    stamp.write_text(plan.install_hash() + "\n")
    os.utime(stamp, (1, 1))                                   # older than the files, as after a checkout
    assert "pip install" not in dry("venv") and "pip install" not in dry("-B", "venv")
    assert "pip install" not in dry("-B", "paper") and "run_notebook" in dry("-B", "paper")
    stamp.write_text("the hash of an older install\n")
    assert "pip install" in dry("-B", "venv")
    os.utime(stamp, (1, 1))
    installs = dry("venv")
    assert "pip install" in installs and f"echo {plan.install_hash()} > {stamp}" in installs


def test_a_fresh_clones_notebook_rule_writes_the_committed_manifest(tmp_path):
    """A fresh clone's `make` of one notebook rule (00_data, the cheapest: ~5 s) leaves `git status` clean:
    each artifact's `code` commit is the last commit touching the notebook or a module it imports, so the
    committed MANIFEST is what make writes. In the same clone, a commit to a module 00 never imports leaves
    its entries alone, and one to a module it does import moves them."""
    import json

    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    (clone / ".venv").symlink_to(REPO / ".venv")
    env = {**os.environ, "HARMSTUDY_ROOT": str(clone), "HARMSTUDY_MODELS": str(REPO / "data" / "models")}
    git = dict(cwd=clone, capture_output=True, text=True, check=True)
    manifest = clone / "figures" / "MANIFEST.json"

    def run_00() -> str:
        result = subprocess.run(["make", "-s", "-C", str(clone), "-o", ".venv/.harmstudy-installed",
                                 "-W", "notebooks/00_data.ipynb", "figures/tables/prompts.csv"],
                                env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        return subprocess.run(["git", "status", "--porcelain"], **git).stdout

    def entries_00() -> dict:
        return {k: v for k, v in json.loads(manifest.read_text()).items() if v["notebook"] == "notebooks/00_data.ipynb"}

    committed = entries_00()
    fresh = run_00()
    written = entries_00()
    assert len(written) >= 5

    def commit(message: str, *edit: str) -> None:
        for name in edit:
            with open(clone / name, "a") as f:
                f.write("\n# an edit\n")
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "--allow-empty",
                        "-qam", message], **git)

    commit("the regenerated figures")                       # as the lead commits them (nothing, where fresh)
    commit("a module 00 never imports", "harmstudy/sets/transfer.py")
    assert run_00() == "", "a commit to a module 00_data does not import changed what it writes"
    commit("a module 00 imports", "harmstudy/data/release.py")
    assert run_00() == " M figures/MANIFEST.json\n"
    head = subprocess.run(["git", "rev-parse", "HEAD"], **git).stdout.strip()
    assert {e["code"]["commit"] for e in entries_00().values()} == {head}

    assert fresh == "", (f"a fresh clone's make rewrote {fresh.split()}: the committed MANIFEST is stale "
                         "(its code commits are not the last commit of each notebook's code); make paper regenerates it")
    assert written == committed


def test_docs_using_md_shows_every_parameter_the_makefile_reads():
    import re

    using = (REPO / "docs" / "using.md").read_text()
    shown = {name for name in makefile_parameters((REPO / "Makefile").read_text()) if re.search(rf"\b{name}=", using)}
    assert makefile_parameters((REPO / "Makefile").read_text()) - shown == set(), "make parameters docs/using.md never shows"
