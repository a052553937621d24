"""The project's own conventions: dependency lists agree, CI runs the README's test command, notebooks
are stored without outputs and have a literal parameters cell."""
import ast
import re
import tomllib
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent


def names(reqs):
    return {re.split(r"[\[<>=~ ]", r.strip(), maxsplit=1)[0].lower() for r in reqs if r.strip()}


def test_pyproject_and_environment_yml_list_the_same_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pip_deps = names(project["dependencies"]) | names(project["optional-dependencies"]["dev"])
    env = (REPO / "environment.yml").read_text()
    block = env.split("- pip:", 1)[1]
    conda_deps = names(l.strip()[2:] for l in block.splitlines() if l.strip().startswith("- ") and "-e ." not in l)
    assert pip_deps == conda_deps


def test_lock_pins_every_dependency_exactly():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lock = (REPO / "requirements.lock").read_text().splitlines()
    pinned = {l.split("==")[0].lower().replace("_", "-") for l in lock if "==" in l}
    wanted = {n.replace("_", "-") for n in names(project["dependencies"])}
    assert wanted <= pinned, wanted - pinned
    assert all("==" in l for l in lock if l.strip() and not l.startswith("#"))


def test_ci_runs_exactly_the_readme_test_command_and_fails_on_no_tests():
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"^\s*(make \w+)\s*(?:#.*)?$", readme, flags=re.M)     # a command, its cost as a comment
    assert "make test" in commands
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M)


def test_make_test_fails_loudly_when_no_test_is_collected(tmp_path):
    import subprocess

    (tmp_path / "test_nothing_here.py").write_text("x = 1\n")
    result = subprocess.run(["make", "-s", "test", f"TESTS={tmp_path}"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    assert "collected no tests (exit 5)" in result.stderr


@pytest.mark.parametrize("nb", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_stored_clean_with_literal_parameters(nb):
    book = nbformat.read(nb, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in book.cells if c.cell_type == "code")
    params = [c for c in book.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    for node in ast.parse(params[0].source).body:
        assert isinstance(node, ast.Assign), ast.dump(node)
        ast.literal_eval(node.value)          # literals only


@pytest.mark.parametrize("judge, n_items, n_prompts", [("llamacpp/qwen2.5-coder-1.5b-instruct", 180, 120),
                                                       ("openai/gpt-4o", 50, 30),
                                                       ("hosted_vllm/Meta-Llama/Llama-3.1-8B", 0, 120)])
def test_makefile_run_names_match_python(judge, n_items, n_prompts):
    import subprocess

    from harmstudy.judge.calls import JudgeSettings
    from harmstudy.judge.runs import default_run_name

    from harmstudy.judge import pointwise

    out = subprocess.run(["make", "-s", "print-runs", f"JUDGE={judge}", f"POINTWISE_JUDGE={judge}", f"N_ITEMS={n_items}",
                          f"POINTWISE_N_ITEMS={n_items}",
                          f"N_PROMPTS={n_prompts}"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    runs = dict(line.split(": data/runs/") for line in out.strip().splitlines() if ": data/runs/" in line)
    settings = JudgeSettings(judge=judge)
    elicit_run = "elicit-default" if n_prompts == 120 else f"elicit-n{n_prompts}"
    assert runs["elicitation"] == elicit_run
    if n_items:
        assert runs["judge (paper)"] == default_run_name(settings, "paper", n_items)
        assert runs["pointwise judge (paper)"] == pointwise.default_run_name(settings, "paper", n_items)
        assert runs["few-shot judge (paper)"] == pointwise.default_run_name(settings, "paper", n_items, shots=4)
    elicit_settings = JudgeSettings(judge=judge, orders=3)
    assert runs["judge (elicitation)"] == default_run_name(elicit_settings, f"elicit:{elicit_run}", None)


def test_readme_and_docs_are_their_templates_rendered_from_the_tables():
    """README.md and docs/*.md are what templates/ renders to from figures/tables (run `make readme` to fix):
    plain numbers, and the template named in the first line."""
    from harmstudy.report import readme

    templates = readme.templates_in(REPO / "templates")
    assert {readme.rendered_path(t, REPO / "templates", REPO).relative_to(REPO).as_posix() for t in templates} >= {
        "README.md", "docs/findings.md", "docs/pyrit.md", "docs/using.md", "docs/package.md", "docs/models.md",
        "docs/glossary.md"}
    numbers = 0
    for template in templates:
        target = readme.rendered_path(template, REPO / "templates", REPO)
        text = target.read_text()
        assert text.startswith("<!-- Rendered by `make paper` from templates/"), target
        assert "{{" not in text and "<!--v" not in text, target
        assert text == readme.render_template(template, REPO / "figures" / "tables", REPO / "templates"), target
        numbers += len(readme.REFERENCE.findall(template.read_text()))
    assert numbers >= 300
    assert len(readme.REFERENCE.findall((REPO / "templates" / "README.md").read_text())) >= 40


def test_the_readmes_prose_types_no_number():
    """Every digit of the README's prose is rendered from a table, or is a design fact on the short list."""
    from harmstudy.report import readme

    assert readme.typed_digits((REPO / "templates" / "README.md").read_text()) == []
    assert len(readme.DESIGN_FACTS) <= 40


def test_the_docs_prose_types_no_number():
    """docs/ the same way, with the design facts its methods and data cards describe."""
    from harmstudy.report import readme

    docs = sorted((REPO / "templates" / "docs").glob("*.md"))
    assert len(docs) == 6
    for template in docs:
        assert readme.typed_digits(template.read_text(), readme.DOC_FACTS) == [], template.name
    assert len(readme.DOC_FACTS) - len(readme.DESIGN_FACTS) <= 40


def test_the_digit_check_sees_a_typed_number_and_lets_code_references_and_design_facts_through():
    from harmstudy.report import readme

    text = ("The 17 student groups, {{t[a=b].c:.2f}} and `make paper N_PROMPTS=4`.\n```\nmake test  # 25 min\n```\n"
            "A typed 0.44 here.\n[link](figures/x2.png) and <!-- 12 -->")
    assert readme.typed_digits(text) == ["A typed 0.44 here."]
    # inline code that a line break splits is code too; a typed count on the next line is not
    assert readme.typed_digits("As `make paper\nN_PROMPTS=4` shows.\nIt took 110 s.") == ["It took 110 s."]


def test_readme_renderer_reads_the_named_row_and_fails_on_ambiguity(tmp_path):
    from harmstudy.report import readme

    (tmp_path / "t.csv").write_text("judge,metric,estimate,word\na,alpha,0.4449,above\na,kappa,-0.1,\nb,alpha,0.5,\n")
    text = "α = {{t[judge=a,metric=alpha].estimate:.2f}}, {{ t[judge=b].estimate:pct }}, {{t[judge=a,metric=alpha].word}}"
    assert readme.render(text, tmp_path) == "α = 0.44, 50%, above"
    assert readme.render("{{t[judge=a,metric=kappa].estimate:+.2f}}", tmp_path) == "−0.10"    # a minus sign
    with pytest.raises(readme.ReadmeNumberError, match="matches 2 rows"):
        readme.render("{{t[judge=a].estimate:.2f}}", tmp_path)
    with pytest.raises(readme.ReadmeNumberError, match="no column 'nope'"):
        readme.render("{{t[judge=b].nope}}", tmp_path)


def test_make_lab_starts_as_root_with_the_harmstudy_kernel(tmp_path):
    """`make lab` on a free port: the server answers on 127.0.0.1 and offers the project's kernel."""
    import json
    import os
    import signal
    import socket
    import subprocess
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = f"--port={port} --ip=127.0.0.1 --no-browser --ServerApp.token= --ServerApp.password="
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path)}
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_ARGS={args}"], cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline, specs = time.time() + 90, None
        while time.time() < deadline and specs is None:
            if proc.poll() is not None:
                pytest.fail("make lab exited: " + proc.stdout.read()[-2000:])
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs", timeout=2) as r:
                    specs = json.loads(r.read())
            except OSError:
                time.sleep(0.5)
        assert specs is not None, "JupyterLab did not answer within 90 s"
        assert "harmstudy" in specs["kernelspecs"]
        assert specs["kernelspecs"]["harmstudy"]["spec"]["display_name"] == "Python (harmstudy)"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_offline_by_default_and_online_on_request():
    import subprocess

    def offline(*args):
        out = subprocess.run(["make", "-s", "print-runs", *args], cwd=REPO, capture_output=True, text=True,
                             check=True, env={k: v for k, v in __import__("os").environ.items()
                                              if not k.startswith("HF_")}).stdout
        return dict(line.split(": ", 1) for line in out.strip().splitlines())["offline"]

    assert offline() == "HF_HUB_OFFLINE=1"
    assert offline("ONLINE=1").startswith("HF_HUB_OFFLINE=unset")


def test_a_small_student_run_gets_its_own_learned_run_folder():
    import subprocess

    out = subprocess.run(["make", "-s", "print-runs", "N_PROMPTS=6"], cwd=REPO, capture_output=True, text=True,
                         check=True).stdout
    runs = dict(line.split(": ", 1) for line in out.strip().splitlines())
    assert runs["learned judges"] == "data/runs/learned-judges-elicit-n6"       # the committed run is untouched
    assert runs["elicitation"] == "data/runs/elicit-n6"


def test_make_paper_shares_the_cores_between_the_notebooks_it_runs_at_once():
    """cores / JOBS BLAS threads per notebook (at least 1); models one at a time, on every core."""
    import os
    import subprocess

    def shown(*args):
        out = subprocess.run(["make", "-s", "print-runs", *args], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout
        return dict(line.split(": ", 1) for line in out.strip().splitlines())["notebooks at once"]

    cores, rest = os.cpu_count(), ", models: one at a time on every core"
    assert shown("JOBS=1") == f"1, BLAS threads each: {cores}" + rest
    assert shown(f"JOBS={cores}") == f"{cores}, BLAS threads each: 1" + rest
    assert shown(f"JOBS={cores + 3}") == f"{cores + 3}, BLAS threads each: 1" + rest          # never 0
    assert shown() == f"{cores}, BLAS threads each: 1" + rest                                  # default: every core busy


def test_one_process_at_a_time_computes_with_a_model_while_the_lock_is_set(tmp_path):
    """The second process waits at its model load until the first one has ended; without the variable
    nothing waits (the order of the lines the processes write shows it, not their timing)."""
    import os
    import subprocess
    import sys
    import time

    log, lock = tmp_path / "log.txt", tmp_path / "model.lock"
    # the first process loads, then (mode "sleep") sleeps or (mode "wait") waits until the second has loaded
    first = ("import sys, time; from pathlib import Path; from harmstudy.models import registry;"
             "registry.load_llama('smollm2-135m-instruct', n_ctx=256); log = Path(sys.argv[1]);"
             "open(log, 'a').write('first loaded\\n'); end = time.time() + (3 if sys.argv[2] == 'sleep' else 120)\n"
             "while time.time() < end and not (sys.argv[2] == 'wait' and 'second' in log.read_text()): time.sleep(0.1)\n"
             "open(log, 'a').write('first done\\n')")
    second = ("import sys; from harmstudy.models import registry; registry.load_llama('smollm2-135m-instruct', n_ctx=256);"
              "open(sys.argv[1], 'a').write('second loaded\\n')")
    env = {**os.environ, "HARMSTUDY_MODEL_LOCK": str(lock)}
    a = subprocess.Popen([sys.executable, "-c", first, str(log), "sleep"], cwd=REPO, env=env)
    while not (log.exists() and "first loaded" in log.read_text()):
        assert a.poll() is None, "the first process ended before loading its model"
        time.sleep(0.1)
    b = subprocess.run([sys.executable, "-c", second, str(log)], cwd=REPO, env=env, capture_output=True, text=True)
    assert a.wait() == 0 and b.returncode == 0, b.stderr[-2000:]
    assert log.read_text().splitlines() == ["first loaded", "first done", "second loaded"]
    assert "waiting for another notebook's model run" in b.stderr
    # without the variable, the second process does not wait (the first waits for it, up to 2 minutes)
    log.unlink()
    env.pop("HARMSTUDY_MODEL_LOCK")
    a = subprocess.Popen([sys.executable, "-c", first, str(log), "wait"], cwd=REPO, env=env)
    while not (log.exists() and "first loaded" in log.read_text()):
        time.sleep(0.1)
    subprocess.run([sys.executable, "-c", second, str(log)], cwd=REPO, env=env, check=True)
    assert a.wait() == 0
    assert log.read_text().splitlines() == ["first loaded", "second loaded", "first done"]


def test_model_threads_come_from_the_environment_and_a_bad_value_names_the_fix(monkeypatch):
    from harmstudy.models import registry

    monkeypatch.delenv(registry.THREADS_ENV, raising=False)
    assert registry.default_threads() == max(1, __import__("os").cpu_count() or 1)
    monkeypatch.setenv(registry.THREADS_ENV, "3")
    assert registry.default_threads() == 3
    llm = registry.load_llama("smollm2-135m-instruct", n_ctx=256)[0]          # real llama.cpp: it uses them
    assert llm.n_threads == 3 and llm.context_params.n_threads == 3
    llm.close()
    monkeypatch.setenv(registry.THREADS_ENV, "0")
    with pytest.raises(ValueError, match="HARMSTUDY_THREADS.*whole number"):
        registry.default_threads()


def test_the_notebook_runner_is_papermill_without_the_slow_import(tmp_path):
    """`python -m harmstudy.report.run_notebook` (make paper's papermill) injects parameters and runs the
    notebook in a kernel on local sockets, and never imports rfc3987_syntax (seconds of Lark grammars)."""
    import subprocess
    import sys

    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("n = 1", metadata={"tags": ["parameters"]}),
                  nbformat.v4.new_code_cell("import sys\nprint('rfc' + str('rfc3987_syntax' in sys.modules), n * 7)\n"
                                            "from ipykernel.kernelapp import IPKernelApp\n"
                                            "print(IPKernelApp.instance().transport)")]
    src, out = tmp_path / "in.ipynb", tmp_path / "out.ipynb"
    nbformat.write(book, src)
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "harmstudy.report.run_notebook", "--kernel", "harmstudy", "--language", "python",
                          str(src), str(out), "-p", "n", "6"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "nbformat" in imported and "lark" not in imported      # papermill's imports, without the Lark grammars
    printed = "".join(o.get("text", "") for o in nbformat.read(out, as_version=4).cells[-1].outputs)
    # its kernel on local sockets (papermill's engine passes the kernel manager), so no TCP warning
    assert printed.split() == ["rfcFalse", "42", "ipc"]
    assert "running over TCP" not in run.stderr


@pytest.mark.parametrize("nb", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_papermill_reads_every_parameter_of_every_notebook(nb, caplog):
    """papermill's own inspection (`papermill --help-notebook`) lists each name the parameters cell assigns,
    without an 'Unable to parse line' warning (so `-p name value` is never an 'unknown parameter')."""
    import logging

    import papermill

    book = nbformat.read(nb, as_version=4)
    cell = next(c for c in book.cells if "parameters" in c.metadata.get("tags", []))
    assigned = [node.targets[0].id for node in ast.parse(cell.source).body]
    with caplog.at_level(logging.WARNING, logger="papermill"):
        inspected = papermill.inspect_notebook(str(nb))
    assert list(inspected) == assigned
    assert not [r for r in caplog.records if "Unable to parse" in r.getMessage()]


def test_the_model_provenance_table_is_the_registrys():
    """Each embedded model's row: its sha256 and licence as pinned in the registry, and the PyPI packages
    that requirements-models.txt installs for it."""
    from harmstudy.models.registry import REGISTRY

    readme = (REPO / "docs" / "models.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines()
            if line.startswith("| `") and "sha256" not in line and line.count("|") == 6}
    requirements = (REPO / "requirements-models.txt").read_text()
    embedded = [s for s in REGISTRY.values() if s.sha256]
    assert {s.name for s in embedded} <= set(rows)
    for spec in embedded:
        cells = [c.strip() for c in rows[spec.name].split("|")[1:-1]]
        assert cells[4] == f"`{spec.sha256}`" and cells[2] == spec.license, spec.name
        packages = ([spec.package_file[0]] if spec.package_file else []) + list(spec.package_parts) + \
            ([spec.assemble_with] if spec.assemble_with else [])
        for package in packages:
            assert package.replace("_", "-") in requirements, package
        assert packages[0].replace("_", "-") in cells[3], spec.name


def test_using_md_names_every_notebook_and_the_docs_name_no_other():
    """docs/using.md's run order names each notebook in notebooks/; no doc names a notebook that is not there."""
    on_disk = {p.name for p in (REPO / "notebooks").glob("*.ipynb")}
    named = lambda text: set(re.findall(r"\b\d\d_[a-z_]+\.ipynb\b", text))
    assert named((REPO / "docs" / "using.md").read_text()) == on_disk
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    assert set().union(*(named(d.read_text()) for d in docs)) == on_disk


def test_the_example_prompt_the_docs_name_is_shipped_and_accepted():
    from harmstudy.judge import prompt

    named = set(re.findall(r"PROMPT=(\S+\.txt)", (REPO / "docs" / "using.md").read_text()))
    assert named == {"data/examples/my_classifier_prompt.txt"}
    for name in named:
        prompt.check_template((REPO / name).read_text(), name)


def test_models_md_gives_each_embedded_judges_prompt_verbatim_and_each_paper_judges_version():
    from harmstudy import PAPER_JUDGES
    from harmstudy.judge import prompt
    from harmstudy.report import readme

    text = (REPO / "docs" / "models.md").read_text()
    for name in ("SYSTEM", "USER", "CONTENT_BLOCK", "JSON_ANSWER", "POINTWISE_SYSTEM", "BINARY_USER", "LIKERT_USER"):
        assert f"```\n{getattr(prompt, name)}\n```" in text, name
    for variant, template in [*prompt.POINTWISE_VARIANTS.items(), *prompt.LISTWISE_VARIANTS.items()]:
        assert f"```\n{template}\n```" in text, variant           # every prompt variant verbatim
    rows = {line.split("|")[1].strip(" `"): line for line in text.splitlines() if line.startswith("| `")}
    for judge in PAPER_JUDGES:
        assert "not stated in the release" in rows[judge], judge
    assert readme.render("{{code:harmstudy.judge.prompt.POINTWISE_VERSION}}") == prompt.POINTWISE_VERSION
    with pytest.raises(readme.ReadmeNumberError, match="no text constant"):
        readme.render("{{code:harmstudy.judge.prompt.NOPE}}")


# The glossary's terms and how the prose spells them: a term's first use in each doc links to its entry.
GLOSSARY_TERMS = [("students", r"\bstudents\b"), ("sheet", r"\bsheets?\b"), ("triple", r"\btriples?\b"), ("slot", r"\bslots?\b"),
                  ("expert", r"\bexpert\b"), ("listwise", r"\blistwise\b"), ("pointwise", r"\bpointwise\b"),
                  ("few-shot", r"\bfew-shot\b"), ("learned", r"\blearned judges?\b"), ("embed", r"`embed`|\bembed\b"),
                  ("distilled", r"\bdistilled\b"), ("pooled", r"(?<!-)\bpooled\b"), ("loco", r"\bloco\b"),
                  ("variant", r"\bvariants?\b"), ("card", r"\bvalidation cards?\b"), ("ceiling", r"\bceiling\b"),
                  ("alpha", r"α"), ("kappa", r"κ"), ("coverage", r"\bcoverage\b"), ("ci_unit", r"`ci_unit`"),
                  ("unscored", r"\bunscored\b"), ("sensitivity", r"\bsensitivity\b"), ("family", r"\bfamily of claims\b|\bfamily\b"),
                  ("level-with", r"\blevel with\b")]
#: what a term inside does not count as its use: a link, a table reference, a tag, inline code
GLOSSARY_PROTECT = re.compile(r"\[[^\]]*\]\([^)]*\)|\{\{.*?\}\}|<[^>]*>|`[^`]*`")


def _prose_lines(lines):
    """(line index, line) of prose lines: not in a code fence, not a heading or comment."""
    fence = False
    for i, line in enumerate(lines):
        if line.startswith("```"):
            fence = not fence
            continue
        if fence or line.startswith("#") or line.lstrip().startswith("<!--") or re.match(r"^\|[-| ]+\|$", line):
            continue
        yield i, line


def _first_use(lines, pattern):
    """(line, start, end, linked to the glossary) of a term's first use in prose (a code span that is the term
    counts: `ci_unit`)."""
    rx = re.compile(pattern, re.I if pattern[0] != "`" else 0)
    for i, line in _prose_lines(lines):
        spans = [(m.start(), m.end(), m.group(0)) for m in GLOSSARY_PROTECT.finditer(line)]
        for m in rx.finditer(line):
            inside = [s for s in spans if s[0] <= m.start() < s[1]]
            if inside:
                s = inside[0][2]
                if s.startswith("[") and "glossary.md#" in s:
                    return i, m.start(), m.end(), True
                if s.startswith("`") and s == m.group(0):      # a code span that is the term
                    return i, m.start(), m.end(), False
                continue
            return i, m.start(), m.end(), False
    return None


def test_the_glossary_defines_each_term_and_each_doc_links_its_first_use():
    glossary = (REPO / "templates" / "docs" / "glossary.md").read_text()
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', glossary))
    assert {a for a, _ in GLOSSARY_TERMS} <= anchors
    linked = 0
    for template in [REPO / "templates" / "README.md", *sorted((REPO / "templates" / "docs").glob("*.md"))]:
        if template.name == "glossary.md":
            continue
        lines = template.read_text().split("\n")
        for anchor, pattern in GLOSSARY_TERMS:
            hit = _first_use(lines, pattern)
            if hit:
                assert hit[3], f"{template.name}: the first use of {anchor!r} is not linked to the glossary: {lines[hit[0]]}"
                linked += 1
    assert linked >= 60
