"""``make report``: an offline HTML site of the study — the executed notebooks with their outputs, every
figure and table, and the README and docs — under ``build/report/`` with an index that links them all,
headline first: the README and the findings, the figures they show, then every judge's figures, the notebooks
and the rest.

Built with nbconvert's ``HTMLExporter`` (lab template; already in the locked environment as part of
JupyterLab, so no new dependency, and it keeps every output of an executed notebook, images embedded) and
markdown-it-py for the Markdown pages (also already locked). Jupyter Book or Sphinx + myst-nb would add a
documentation toolchain and re-execute or re-parse what papermill already ran; a site of static pages
needs neither. No page loads anything from the network: MathJax and require.js are left out.

The site mirrors the repository's layout (``notebooks/``, ``figures/``, ``figures/tables/``, ``docs/``), so
the relative links the Markdown and the notebooks already hold (``../figures/x.png``) resolve in it; a
Markdown page linked from another is rendered too, and any other file it links (LICENSE, a data card's
licence) is copied.

Usage: ``python -m harmstudy.report.site [out] [--notebooks DIR] [--figures DIR]`` (default ``build/report``
from ``build/notebooks`` and ``figures/``; ``make report`` passes a variant's folders).
"""
from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from pathlib import Path
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from harmstudy import paths

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }}
table {{ border-collapse: collapse; font-size: 0.9rem; }} td, th {{ border: 1px solid #ccc; padding: 0.2rem 0.5rem; }}
img {{ max-width: 100%; }} code {{ background: #f4f4f4; padding: 0 0.2rem; }} pre {{ background: #f4f4f4; padding: 0.6rem; overflow-x: auto; }}
nav {{ font-size: 0.9rem; margin-bottom: 1rem; }} .grid {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(14rem, 1fr)); gap: 1rem; }}
.grid figure {{ margin: 0; }} .grid img {{ border: 1px solid #ddd; height: 9rem; object-fit: contain; width: 100%; }}
figcaption {{ font-size: 0.8rem; }}
</style></head>
<body><nav><a href="{home}">harmstudy report</a></nav>
{body}
</body></html>
"""
#: the attribute of each Markdown token that holds a link (markdown-it-py's token stream)
LINK_ATTRIBUTE = {"link_open": "href", "image": "src"}


class _Links(HTMLParser):
    """Every ``href`` and ``src`` of an HTML page, as (attribute, value)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.found += [(name, value) for name, value in attrs if name in ("href", "src") and value is not None]


def page_links(text: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(text)
    parser.close()
    return parser.found


def _tokens(tokens):
    for token in tokens:
        yield token
        yield from _tokens(token.children or [])


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return bool(url) and not parts.scheme and not parts.netloc and not url.startswith("data:")


def _home(page: Path, out: Path) -> str:
    depth = len(page.relative_to(out).parts) - 1
    return "../" * depth + "index.html"


def render_markdown(source: Path, out: Path, root: Path, queue: list[Path]) -> Path:
    """``source`` (a Markdown file of the repository) as ``out/<same path>.html``; the local files it links
    are queued (Markdown) or copied (anything else), its ``.md`` links rewritten to ``.html``."""
    from markdown_it import MarkdownIt

    text = source.read_text()
    md = MarkdownIt("commonmark").enable("table")
    rel = source.relative_to(root)
    target = (out / rel).with_suffix(".html")

    def relink(value: str) -> str:
        url, hash_, frag = value.partition("#")
        if not _is_local(url):
            return value
        linked = (source.parent / unquote(url)).resolve()
        if not linked.is_relative_to(root.resolve()) or not linked.exists():
            return value                           # left as it is: the link check reports it
        if linked.suffix == ".md":
            queue.append(linked)
            url = url[:-3] + ".html"
        elif linked.is_file():
            copy = out / linked.relative_to(root.resolve())
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(linked, copy)
        return url + hash_ + frag

    tokens = md.parse(text)
    for token in _tokens(tokens):
        attribute = LINK_ATTRIBUTE.get(token.type)
        if attribute and token.attrGet(attribute) is not None:
            token.attrSet(attribute, relink(str(token.attrGet(attribute))))
    body = md.renderer.render(tokens, md.options, {})
    target.parent.mkdir(parents=True, exist_ok=True)
    title = next((line.lstrip("# ") for line in text.splitlines() if line.startswith("# ")), rel.as_posix())
    target.write_text(PAGE.format(title=html.escape(title), home=_home(target, out), body=body))
    return target


def render_notebook(notebook: Path, out: Path) -> Path:
    """An executed notebook as ``out/notebooks/<name>.html``, outputs included, nothing loaded from the web."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    target = out / "notebooks" / f"{notebook.stem}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    body = re.sub(r'<script src="">\s*</script>', "", body)       # require.js and MathJax, left out (no network)
    body = body.replace("<title>Notebook</title>", f"<title>{html.escape(notebook.stem)}</title>", 1)
    # a link back to the index at the top of the page
    body = re.sub(r"(<body[^>]*>)", r'\1<nav style="font-family: sans-serif; margin: 1rem;">'
                  r'<a href="../index.html">harmstudy report</a></nav>', body, count=1)
    target.write_text(body)
    return target


def build(out: Path, *, notebooks: Path | None = None, figures: Path | None = None, root: Path | None = None) -> Path:
    """The whole site under ``out``; returns its index page."""
    root = Path(root or paths.ROOT)
    notebooks = Path(notebooks or paths.BUILD / "notebooks")
    figures = Path(figures or paths.STUDY_FIGURES)
    executed = sorted(notebooks.glob("*.ipynb"))
    if not executed:
        raise FileNotFoundError(f"no executed notebook in {notebooks}: run `make paper` first")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    from tqdm.auto import tqdm

    pages = [render_notebook(nb, out) for nb in tqdm(executed, desc="report: notebooks", unit="notebook")]
    # The study's figures go to figures/, where the README's links find them. A variant's go where they are in
    # the project (build/variants/<v>/): the README, the study's text, still shows the study's figures beside
    # them. A variant's folder also holds its executed notebooks and this report, which stay out of the copy
    # (copying the report into itself never ends).
    shown = _site_folder(figures, root)
    inside = {Path(out).resolve(), notebooks.resolve()}
    shutil.copytree(figures, out / shown,
                    ignore=lambda folder, names: [n for n in names if (Path(folder) / n).resolve() in inside])
    queue, done = [root / "README.md"], set()
    while queue:
        source = queue.pop().resolve()
        if source not in done and source.exists():
            done.add(source)
            render_markdown(source, out, root.resolve(), queue)
    pngs = sorted((out / shown).glob("*.png"))
    tables = sorted((out / shown / "tables").glob("*.csv"))
    docs = sorted(p for p in out.rglob("*.html") if p.parent != out / "notebooks" and p.name != "index.html"
                  and not p.is_relative_to(out / shown))
    first = [p for p in (out / "README.html", out / "docs" / "findings.html", out / "docs" / "glossary.html")
             if p.exists()]
    headline, every, other = figure_groups(pngs, [root / "README.md", root / "docs" / "findings.md"])

    def link(p: Path) -> str:
        rel = p.relative_to(out).as_posix()
        return f'<li><a href="{rel}">{html.escape(rel)}</a></li>'

    def grid(figures: list[Path]) -> list[str]:
        return (['<div class="grid">']
                + [f'<figure><a href="{shown}/{p.name}"><img src="{shown}/{p.name}" alt="{html.escape(p.stem)}"></a>'
                   f"<figcaption>{html.escape(p.name)}</figcaption></figure>" for p in figures] + ["</div>"])

    body = ["<h1>harmstudy: can large LLMs judge how harmful smaller LLMs' outputs are?</h1>",
            f"<p><code>{html.escape(shown)}/</code> as <code>make paper</code> last built it: "
            f'{len(pages)} executed notebooks, {len(pngs)} figures, {len(tables)} tables. The study\'s text: '
            f'<a href="README.html">the README</a>.</p>',
            "<h2>Read first</h2><ul>", *[link(p) for p in first], "</ul>"]
    if headline:
        body += ["<h2>Headline figures (the study's judges, as the README and the findings show them)</h2>",
                 *grid(headline)]
    if every:
        body += ["<h2>Every judge (one figure per measure)</h2>", *grid(every)]
    body += ["<h2>Notebooks (executed, with their outputs)</h2><ul>"]
    body += [f'<li><a href="notebooks/{p.name}">{html.escape(p.stem)}</a></li>' for p in pages]
    body += ["</ul>"]
    if other:
        body += ["<h2>Other figures</h2>", *grid(other)]
    body += ["<h2>Pages</h2><ul>", *[link(p) for p in docs if p not in first], "</ul>"]
    body += ["<h2>Tables (CSV)</h2><ul>"]
    body += [f'<li><a href="{shown}/tables/{p.name}">{html.escape(p.name)}</a></li>' for p in tables]
    body += [f'</ul><p><a href="{shown}/MANIFEST.json">MANIFEST.json</a>: for each figure and table, the notebook, '
             "its parameters, its inputs' sha256 and the commit that made it.</p>"]
    index = out / "index.html"
    index.write_text(PAGE.format(title="harmstudy report", home="index.html", body="\n".join(body)))
    return index


def shown_figures(pages: list[Path]) -> list[str]:
    """The file names of the figures the Markdown ``pages`` show as images, in the order they first appear."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark").enable("table")
    names = []
    for page in pages:
        if page.exists():
            names += [Path(unquote(urlsplit(str(t.attrGet("src"))).path)).name
                      for t in _tokens(md.parse(page.read_text())) if t.type == "image"]
    return list(dict.fromkeys(n for n in names if n.endswith(".png")))


def figure_groups(pngs: list[Path], pages: list[Path]) -> tuple[list[Path], list[Path], list[Path]]:
    """The site's figures in three groups, headline first: those the ``pages`` (the README, the findings) show,
    in their order, every-judge variants (``*_all``) aside; the every-judge variants; the rest."""
    by_name = {p.name: p for p in pngs}
    every = [p for p in pngs if p.stem.endswith("_all")]
    headline = [by_name[n] for n in shown_figures(pages) if n in by_name and by_name[n] not in every]
    other = [p for p in pngs if p not in headline and p not in every]
    return headline, every, other


def _site_folder(figures: Path, root: Path) -> str:
    """Where the site holds a figures folder: its path in the project (``figures``, ``build/variants/<v>``),
    or ``outputs`` for a folder elsewhere."""
    try:
        return Path(figures).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return "outputs"


def broken_links(out: Path) -> list[tuple[str, str]]:
    """(page, link) for every local ``href``/``src`` of the site that names no file in it. Links to the web
    are not fetched (the site is read offline); images must be local or embedded."""
    broken = []
    for page in sorted(out.rglob("*.html")):
        for attribute, value in page_links(page.read_text()):
            url = value.partition("#")[0]
            if attribute == "src" and not _is_local(url) and not url.startswith("data:"):
                broken.append((page.relative_to(out).as_posix(), url))          # an image from the web
            elif _is_local(url) and not (page.parent / unquote(url)).exists():
                broken.append((page.relative_to(out).as_posix(), url))
    return broken


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="build the offline HTML report of the executed notebooks")
    ap.add_argument("out", nargs="?", default=str(paths.BUILD / "report"))
    ap.add_argument("--notebooks", help="the executed notebooks (default build/notebooks)")
    ap.add_argument("--figures", help="the figures and tables (default figures/)")
    args = ap.parse_args(argv)
    index = build(Path(args.out), notebooks=args.notebooks, figures=args.figures)
    broken = broken_links(Path(args.out))
    for page, url in broken:
        print(f"{page}: broken link {url}", file=sys.stderr)
    print(f"report: {index} ({sum(1 for _ in Path(args.out).rglob('*.html'))} pages)")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
