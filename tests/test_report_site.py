"""`make report` of a variant (harmstudy/report/site.py): its figures folder (build/variants/<v>/) also holds
its executed notebooks and the report itself. The site once copied the report into itself until Python's
recursion limit, and the README's study figures, copied to the same place, would have replaced the variant's."""
import shutil
from pathlib import Path

import nbformat

from harmstudy.report import site

REPO = Path(__file__).resolve().parent.parent
STUDY_PNG, VARIANT_PNG = REPO / "figures" / "judge_agreement.png", REPO / "figures" / "harmful_share.png"


def test_a_variants_report_shows_its_own_figures_beside_the_readmes_and_not_itself(tmp_path):
    root = tmp_path / "project"
    (root / "figures").mkdir(parents=True)
    (root / "docs").mkdir()
    shutil.copy2(STUDY_PNG, root / "figures" / "judge_agreement.png")
    (root / "README.md").write_text("# The study\n\n![agreement](figures/judge_agreement.png)\n\n"
                                    "[Findings](docs/findings.md)\n")
    (root / "docs" / "findings.md").write_text("# Findings\n\n[Back](../README.md#the-study) and `[not](a.md)`\n")
    variant = root / "build" / "variants" / "n-boot-20"
    (variant / "tables").mkdir(parents=True)
    shutil.copy2(VARIANT_PNG, variant / "judge_agreement.png")        # the variant's figure: other bytes
    (variant / "tables" / "judge_agreement.csv").write_text("judge,estimate\na,0.5\n")
    (variant / "MANIFEST.json").write_text("{}\n")
    (variant / "notebooks").mkdir()
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=1, outputs=[
        nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)])])
    nbformat.write(book, variant / "notebooks" / "04_agreement.ipynb")
    out = variant / "report"
    out.mkdir()                                                        # a report built before is replaced

    index = site.build(out, notebooks=variant / "notebooks", figures=variant, root=root)

    folder = "build/variants/n-boot-20"
    copied = sorted(p.relative_to(out / folder).as_posix() for p in (out / folder).rglob("*"))
    assert copied == ["MANIFEST.json", "judge_agreement.png", "tables", "tables/judge_agreement.csv"]
    assert (out / folder / "judge_agreement.png").read_bytes() == VARIANT_PNG.read_bytes()
    assert (out / "figures" / "judge_agreement.png").read_bytes() == STUDY_PNG.read_bytes()   # the README's
    text = index.read_text()
    assert f"<code>{folder}/</code> as <code>make paper</code> last built it: 1 executed notebooks, 1 figures, 1 tables" in text
    assert f'src="{folder}/judge_agreement.png"' in text and f'href="{folder}/tables/judge_agreement.csv"' in text
    assert 'href="notebooks/04_agreement.html"' in text and 'href="docs/findings.html"' in text
    assert site.broken_links(out) == []
    findings = (out / "docs" / "findings.html").read_text()
    assert 'href="../README.html#the-study"' in findings and "<code>[not](a.md)</code>" in findings


def test_a_markdown_page_keeps_what_it_cannot_resolve_and_the_link_check_names_it(tmp_path):
    root, out = tmp_path / "project", tmp_path / "site"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "my data.csv").write_text("a\n1\n")
    (root / "docs" / "page.md").write_text("[data](my%20data.csv) [gone](missing.md) [web](https://example.org/x.md)\n"
                                           "![remote](https://example.org/x.png)\n")
    page = site.render_markdown(root / "docs" / "page.md", out, root, queue := [])
    text = page.read_text()
    assert 'href="my%20data.csv"' in text and (out / "docs" / "my data.csv").exists()      # a local file: copied
    assert 'href="missing.md"' in text and 'href="https://example.org/x.md"' in text and queue == []
    # (no index page is built here: the page's link home is broken too)
    assert site.broken_links(out) == [("docs/page.html", "../index.html"), ("docs/page.html", "missing.md"),
                                      ("docs/page.html", "https://example.org/x.png")]


def test_the_index_puts_the_readme_the_findings_and_their_figures_before_every_judges_and_the_notebooks(tmp_path):
    root = tmp_path / "project"
    (root / "figures").mkdir(parents=True)
    (root / "docs").mkdir()
    for name in ("judge_agreement", "judge_agreement_all", "harmful_share", "rank_distribution"):
        shutil.copy2(STUDY_PNG, root / "figures" / f"{name}.png")
    (root / "README.md").write_text("# The study\n\n![a](figures/judge_agreement.png)\n\n[Findings](docs/findings.md)\n")
    (root / "docs" / "findings.md").write_text("# Findings\n\n![h](../figures/harmful_share.png)\n"
                                               "![a](../figures/judge_agreement.png)\n![all](../figures/judge_agreement_all.png)\n")
    notebooks = root / "build" / "notebooks"
    notebooks.mkdir(parents=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), notebooks / "04_agreement.ipynb")

    text = site.build(root / "build" / "report", notebooks=notebooks, figures=root / "figures", root=root).read_text()

    at = {key: text.index(key) for key in ('href="README.html"', 'href="docs/findings.html"', "Headline figures",
                                           "Every judge", "Notebooks", "Other figures", "Tables")}
    assert list(at) == sorted(at, key=at.get)                       # in this order on the page
    headline = text[at["Headline figures"]:at["Every judge"]]
    assert headline.index("judge_agreement.png") < headline.index("harmful_share.png")    # the README's first
    assert "_all" not in headline and "rank_distribution" not in headline
    assert "judge_agreement_all.png" in text[at["Every judge"]:at["Notebooks"]]
    assert "rank_distribution.png" in text[at["Other figures"]:at["Tables"]]
