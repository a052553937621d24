"""The study's main figures, drawn from the committed tables (and, where a figure reads responses or rankings,
the committed runs) with the package's own figure functions, checked with matplotlib's geometry: no two text
labels overlap, no label covers data, no text leaves the figure, no panel (and no judge's row of a card) is
blank without a note saying why, and each figure keeps to the headline judges and fits its axes to its data.

The geometry is matplotlib's: ``text.get_window_extent(renderer)`` for every tick label, title, axis label,
annotation and legend, and each data artist's path in display pixels. A box is a few pixels smaller than the
glyphs' own before it counts as overlapping, so labels that merely touch at an antialiased edge pass."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection, PolyCollection  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.path import Path as MPath  # noqa: E402
from matplotlib.text import Text  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402
from pathlib import Path  # noqa: E402

from harmstudy import PAPER_MODELS, headline  # noqa: E402
from harmstudy.report import plots  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
TABLES = REPO / "figures" / "tables"
RUNS = REPO / "data" / "runs"
#: 04_agreement's judge_runs (its parameters cell): the rankings its confusion matrices are drawn from
JUDGE_RUNS = ["judge-qwen2.5-coder-1.5b-instruct-paper-n180", "judge-qwen2.5-coder-1.5b-instruct-o3-paper-n30",
              "pointwise-qwen2.5-coder-0.5b-instruct-paper-n85",
              "pointwise-qwen2.5-coder-0.5b-instruct-fewshot4-paper-n85", "learned-judges"]
#: pixels a box shrinks by on each side before an overlap counts (glyph boxes include the font's line gap)
SLACK = 1.0
#: at most this many judges in a main figure (issue 41: "the main figures name at most six judges")
MAX_JUDGES = 6


# --- the geometry ---------------------------------------------------------------------------------------------

def _extent(text: Text, renderer) -> Bbox:
    """A text's own box (an annotation's without its arrow)."""
    return Text.get_window_extent(text, renderer)


def _shown(text: Text) -> bool:
    return text.get_visible() and bool(text.get_text().strip())


def _tick_labels(ax) -> list[Text]:
    """The tick labels matplotlib draws: visible, non-empty and at a tick inside the view."""
    out = []
    for axis, (lo, hi) in ((ax.xaxis, sorted(ax.get_xlim())), (ax.yaxis, sorted(ax.get_ylim()))):
        for tick in axis.get_major_ticks() + axis.get_minor_ticks():
            loc = tick.get_loc()
            if loc is None or not (lo - 1e-9 * max(1, abs(lo)) <= loc <= hi + 1e-9 * max(1, abs(hi))):
                continue
            out += [label for label in (tick.label1, tick.label2) if label.get_visible() and _shown(label)]
    return out


def labels(fig) -> list[tuple[str, Text | object, object]]:
    """Every label the figure draws: (where, the artist, the axes it belongs to or None); a legend counts as one
    box (its entries are laid out by matplotlib, never on each other)."""
    out = []
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for t in _tick_labels(ax):
            out.append(("tick", t, ax))
        for t in ax.texts:
            if _shown(t):
                out.append(("text", t, ax))
        for t in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label):
            if _shown(t):
                out.append(("title", t, ax))
        if ax.get_legend() is not None and ax.get_legend().get_visible():
            out.append(("legend", ax.get_legend(), ax))
    for t in fig.texts:                                # the suptitle is one of them
        if _shown(t):
            out.append(("suptitle" if t is fig._suptitle else "figure text", t, None))
    for legend in fig.legends:
        out.append(("legend", legend, None))
    return out


def _box(artist, renderer) -> Bbox:
    box = _extent(artist, renderer) if isinstance(artist, Text) else artist.get_window_extent(renderer)
    return Bbox.from_extents(box.x0 + SLACK, box.y0 + SLACK, box.x1 - SLACK, box.y1 - SLACK)


def _outline(artist, renderer) -> MPath:
    """A label's outline in pixels: its box, or for rotated text the rotated rectangle of its glyphs (the
    axis-aligned box of a rotated label covers its neighbours' corners where no glyph is)."""
    box = _box(artist, renderer)
    angle = artist.get_rotation() % 180 if isinstance(artist, Text) else 0
    if not angle:
        return MPath([(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1), (box.x0, box.y0)])
    artist.set_rotation(0)             # the same glyphs unrotated: their width and height
    flat = _extent(artist, renderer)
    artist.set_rotation(angle)
    w, h = flat.width / 2 - SLACK, flat.height / 2 - SLACK
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    corners = np.array([(-w, -h), (w, -h), (w, h), (-w, h), (-w, -h)]) @ np.array([[c, s], [-s, c]])
    return MPath(corners + [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2])     # rotation keeps the centre


def _name(artist) -> str:
    if isinstance(artist, Text):
        return repr(artist.get_text()[:50])
    return "legend[" + ", ".join(t.get_text()[:25] for t in artist.get_texts()[:3]) + ", ...]"


def overlapping_labels(fig) -> list[str]:
    """Each pair of labels that overlap, with the pixels of their boxes' overlap."""
    renderer = fig.canvas.get_renderer()
    found = labels(fig)
    boxes = np.array([_box(a, renderer).extents for _, a, _ in found]).reshape(-1, 4)
    rotated = [isinstance(a, Text) and a.get_rotation() % 180 != 0 for _, a, _ in found]
    out = []
    for i in range(len(found)):
        w = np.minimum(boxes[i, 2], boxes[i + 1:, 2]) - np.maximum(boxes[i, 0], boxes[i + 1:, 0])
        h = np.minimum(boxes[i, 3], boxes[i + 1:, 3]) - np.maximum(boxes[i, 1], boxes[i + 1:, 1])
        for j in np.flatnonzero((w > 0) & (h > 0)) + i + 1:
            (ki, ai, _), (kj, aj, _) = found[i], found[j]
            if (rotated[i] or rotated[j]) and not _outline(ai, renderer).intersects_path(_outline(aj, renderer)):
                continue
            out.append(f"{ki} {_name(ai)} overlaps {kj} {_name(aj)} by {w[j - i - 1]:.0f}x{h[j - i - 1]:.0f} px")
    return out


def labels_outside(fig) -> list[str]:
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    out = []
    for kind, artist, _ in labels(fig):
        b = _box(artist, renderer)
        if b.x0 < page.x0 or b.y0 < page.y0 or b.x1 > page.x1 or b.y1 > page.y1:
            out.append(f"{kind} {_name(artist)} leaves the figure: {b.extents.round(0)} vs {page.extents.round(0)}")
    return out


def labels_over_other_axes(fig) -> list[str]:
    """Each label of one axes (a tick label, title, annotation, legend) that reaches into another axes' area,
    where that axes' background or colour bar hides it."""
    renderer = fig.canvas.get_renderer()
    areas = [(ax, ax.bbox) for ax in fig.axes if ax.get_visible()]
    out = []
    for kind, artist, owner in labels(fig):
        if owner is None:
            continue
        box = _box(artist, renderer)
        for ax, area in areas:
            if ax is not owner and box.overlaps(area):
                out.append(f"{kind} {_name(artist)} reaches into the axes {ax.get_title() or ax.get_ylabel()!r}")
    return out


def _is_reference(artist, ax) -> bool:
    """A reference line or band (axvline, axhspan...): drawn in axes coordinates along one direction."""
    transform = artist.get_data_transform() if hasattr(artist, "get_data_transform") else artist.get_transform()
    return transform is not ax.transData


def data_paths(ax):
    """The data an axes draws, in display pixels: (kind, vertices or a path, filled?) per artist; reference
    lines and bands, grid lines and images (a heatmap's cells carry their labels by design) are left out."""
    out = []
    for line in ax.lines:
        if not line.get_visible() or _is_reference(line, ax):
            continue
        xy = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        xy = xy[np.isfinite(xy).all(axis=1)]
        if not len(xy):
            continue
        if line.get_marker() not in (None, "None", "", " "):
            out.append(("points", xy, line.get_markersize() * ax.figure.dpi / 72 / 2))
        if line.get_linestyle() not in ("None", "", " ") and len(xy) > 1:
            out.append(("path", MPath(xy), False))
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        if isinstance(coll, PathCollection):
            offsets = np.asarray(coll.get_offsets(), dtype=float)
            if len(offsets):
                xy = coll.get_offset_transform().transform(offsets)
                out.append(("points", xy[np.isfinite(xy).all(axis=1)], 3.0))
        elif isinstance(coll, LineCollection):
            if _is_reference(coll, ax):
                continue
            for seg in coll.get_segments():
                xy = coll.get_transform().transform(np.asarray(seg, dtype=float))
                if len(xy) > 1 and np.isfinite(xy).all():
                    out.append(("path", MPath(xy), False))
        elif isinstance(coll, PolyCollection) and not _is_reference(coll, ax):
            for p in coll.get_paths():
                out.append(("path", coll.get_transform().transform_path(p), True))
    for patch in ax.patches:
        if patch.get_visible() and not _is_reference(patch, ax):
            out.append(("path", patch.get_transform().transform_path(patch.get_path()), patch.get_fill()))
    return out


def labels_on_data(fig) -> list[str]:
    """Each label inside an axes (an annotation, a legend) that covers one of that axes' data."""
    renderer = fig.canvas.get_renderer()
    out = []
    for kind, artist, ax in labels(fig):
        if ax is None or kind not in ("text", "legend") or any(isinstance(a, AxesImage) for a in ax.images):
            continue
        box = _box(artist, renderer)
        for what, data, extra in data_paths(ax):
            if what == "points":
                grown = Bbox.from_extents(box.x0 - extra, box.y0 - extra, box.x1 + extra, box.y1 + extra)
                hit = grown.count_contains(data) > 0
            else:
                hit = data.intersects_bbox(box, filled=extra)
            if hit:
                out.append(f"{kind} {_name(artist)} covers data of the axes {ax.get_title() or ax.get_xlabel()!r}")
                break
    return out


def empty_axes(fig) -> list[str]:
    """A visible axes with no data and no text saying why."""
    out = []
    for ax in fig.axes:
        if not ax.get_visible() or ax.images or ax.collections or data_paths(ax):
            continue
        if not any(_shown(t) for t in ax.texts):
            out.append(f"axes {ax.get_title() or ax.get_xlabel()!r} is empty and says nothing")
    return out


def blank_rows(ax, rows) -> list[float]:
    """The rows (y positions) of a forest-style panel with neither a point nor a text on them."""
    ys = []
    for what, data, _ in data_paths(ax):
        xy = data if what == "points" else data.vertices
        ys += list(ax.transData.inverted().transform(xy)[:, 1])
    ys += [t.get_position()[1] for t in ax.texts if _shown(t) and t.get_transform() is not ax.transAxes]
    return [r for r in rows if not any(abs(y - r) < 0.3 for y in ys)]


def problems(fig) -> list[str]:
    fig.canvas.draw()
    return (overlapping_labels(fig) + labels_over_other_axes(fig) + labels_on_data(fig) + labels_outside(fig)
            + empty_axes(fig))


# --- the figures, from the committed tables ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def table():
    cache = {}

    def read(name):
        if name not in cache:
            cache[name] = pd.read_csv(TABLES / f"{name}.csv")
        return cache[name]
    return read


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _kinds(table):
    agree = table("judge_agreement")
    return agree.drop_duplicates("judge").set_index("judge")["kind"].to_dict()


def test_the_judge_cards_label_nothing_over_another_and_every_blank_cell_says_why(table):
    card = table("judge_cards")
    fig = plots.judge_cards(card, names=headline.shown_names(card), title="Validation cards of the study's judges")
    assert problems(fig) == []
    panels = fig.axes[:5]
    rows = list(panels[0].get_yticks())
    assert len(rows) <= MAX_JUDGES
    for ax in panels:
        assert blank_rows(ax, rows) == [], f"panel {ax.get_xlabel()!r}: a judge's cell is blank, nothing says why"
    renderer = fig.canvas.get_renderer()
    for ax in panels:                     # a legend inside a panel sits in a judge's row, read as its data
        legend = ax.get_legend()
        assert legend is None or not _box(legend, renderer).overlaps(ax.bbox), f"a legend inside {ax.get_xlabel()!r}"
    refusal = next(ax for ax in panels if "refusal" in ax.get_xlabel())
    assert sum("n=" in t.get_text() for t in refusal.texts) >= len(rows)         # n on every refusal point


def test_judge_agreement_and_its_cost(table):
    agree = table("judge_agreement")
    shown = headline.shown_names(agree)
    fig = plots.judge_agreement(agree, reference="human", names=shown,
                                title="Which of the study's judges agrees with the students? (95% CI over sheets)")
    assert problems(fig) == []
    assert len(fig.axes[0].get_yticks()) <= MAX_JUDGES


def test_each_agreement_panel_draws_the_students_ceiling_of_its_own_metric(table):
    """Like for like: the κ panel's band is κ's ceiling (students vs the expert), not α's, and so on."""
    from matplotlib.patches import Rectangle

    agree = table("judge_agreement")
    ceiling = agree[(agree["judge"] == "human") & (agree["reference"] == "expert")].set_index("metric")
    metrics = ("alpha_ordinal", "kappa_harmful")
    fig = plots.judge_agreement(agree, reference="human", names=headline.shown_names(agree), metrics=metrics)
    assert ceiling.loc["alpha_ordinal", "estimate"] != ceiling.loc["kappa_harmful", "estimate"]     # they differ
    for ax, metric in zip(fig.axes, metrics):
        bands = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_transform() is not ax.transData]
        assert len(bands) == 1, metric
        assert (bands[0].get_x(), bands[0].get_x() + bands[0].get_width()) == pytest.approx(
            (ceiling.loc[metric, "ci_low"], ceiling.loc[metric, "ci_high"]))
        lines = [line.get_xdata()[0] for line in ax.lines if _is_reference(line, ax) and line.get_color() == "0.45"]
        assert lines == pytest.approx([ceiling.loc[metric, "estimate"]]), metric
    words = " ".join(t.get_text() for t in fig.findobj(Text))
    assert "students' ceiling" in words and "human" not in words


@pytest.fixture(scope="module")
def dollars():
    from harmstudy.judge import runs

    return runs.paper_judges_dollars()            # LiteLLM's token counter and cost map, offline, no call


def _fitted(lo, hi, values, factor=2.0):
    """A log axis from ``lo`` to ``hi`` runs at most ``factor`` past the smallest and the largest value."""
    return lo >= min(values) / factor and hi <= max(values) * factor


@pytest.mark.parametrize("headline_only", [True, False])
def test_the_cost_plot_puts_every_judge_on_one_agreement_axis_its_cost_axes_fitted(table, dollars, headline_only):
    agree = table("judge_agreement")
    names = headline.shown_names(agree) if headline_only else None
    fig = plots.agreement_vs_cost(agree, names=names, dollars=dollars)
    assert problems(fig) == []
    api, here = fig.axes[:2]
    assert api.get_shared_y_axes().joined(api, here)                       # one agreement axis
    judges = agree[(agree["reference"] == "human") & (agree["judge"] != "human")
                   & ~agree["kind"].str.contains("tie-break") & (agree["metric"] == "alpha_ordinal")]
    if names:
        judges = judges[judges["judge"].isin(names)]
    seconds = judges["seconds_per_triple"].dropna()
    seconds = seconds[seconds > 0]
    priced = dollars.set_index("judge").loc[judges.loc[~(judges["seconds_per_triple"] > 0), "judge"]]
    assert len(seconds) + len(priced) == len(judges)                      # every judge has a cost
    assert _fitted(*here.get_xlim(), list(seconds))                        # not ~30x past the costliest
    assert _fitted(*api.get_xlim(), list(priced["dollars_low"]) + list(priced["dollars_high"]))
    words = " ".join(t.get_text() for t in fig.findobj(Text))
    assert "estimated" in words and "dollars per 1,000 triples" in words
    for judge, n in zip(judges["judge"], judges["n"]):                     # each judge named with its n
        assert f"{(names or {}).get(judge, judge).replace(' (API; the paper' + chr(39) + 's)', '')} (n={n})" in words


def test_the_paper_judges_dollars_are_their_tokens_at_each_cost_map_entry():
    """Hand arithmetic on the map's own prices: 2,000 calls of 1,500,000 input and 34,000 output tokens."""
    import litellm

    from harmstudy.judge import cost

    counted = cost.CostEstimate(judge="gpt-4o", run="r", calls=2000, cached=0, input_tokens=1_500_000,
                                output=cost.Output(17, 32, "b"), input_price=None, output_price=None)
    rows = cost.priced_range(counted, {"gpt-4o": ("gpt-4o", "gpt-4o-2024-05-13"), "x": ("no-such-model",)})
    rows = rows.set_index("judge")
    price = {m: litellm.model_cost[m] for m in ("gpt-4o", "gpt-4o-2024-05-13")}
    each = {m: (1_500_000 * p["input_cost_per_token"] + 34_000 * p["output_cost_per_token"]) / 2
            for m, p in price.items()}
    assert rows.loc["gpt-4o", "dollars_per_1000"] == pytest.approx(each["gpt-4o"])
    assert rows.loc["gpt-4o", "dollars_low"] == pytest.approx(min(each.values()))
    assert rows.loc["gpt-4o", "dollars_high"] == pytest.approx(max(each.values()))
    assert pd.isna(rows.loc["x", "dollars_per_1000"]) and "price unknown" in rows.loc["x", "entries"]


def test_judge_vs_judge_shows_the_headline_judges_with_each_pairs_n(table):
    jj = table("judge_vs_judge")
    names = headline.shown_names(table("judge_agreement"))
    fig = plots.judge_vs_judge(jj, metric="alpha_ordinal", names=names)
    assert problems(fig) == []
    ax = fig.axes[0]
    assert len(ax.get_yticks()) <= MAX_JUDGES
    cells = [t.get_text() for t in ax.texts]
    off = len(ax.get_yticks()) * (len(ax.get_yticks()) - 1)
    assert sum("n=" in c for c in cells) == off                   # every pair's n in its cell


@pytest.fixture(scope="module")
def rankings():
    from harmstudy.judge import run_tables

    return run_tables.load_all_rankings(JUDGE_RUNS)


def test_confusion_matrices_one_panel_per_headline_judge(rankings):
    from harmstudy.stats import agreement
    from harmstudy.stats import tables as study_tables

    judges = study_tables.judges_of(rankings)
    names = headline.shown_names(pd.read_csv(REPO / "figures/tables/judge_agreement.csv"))
    students = rankings[rankings["rater_kind"] == "student"]
    confusions = {j: agreement.confusion(rankings[rankings["rater"] == j], students) for j in judges if j in names}
    fig = plots.confusion_matrices(confusions, names=names)
    assert problems(fig) == []
    assert sum(ax.get_visible() and bool(ax.images) for ax in fig.axes) <= MAX_JUDGES


def test_harmful_share_shows_the_people_and_the_headline_judges(table):
    harm = table("small_model_harm")
    names = headline.shown_names(table("judge_agreement"))
    fig = plots.harmful_share(harm, kinds=_kinds(table), names=names)
    assert problems(fig) == []
    assert len(fig.axes[0].get_yticks()) <= MAX_JUDGES + 2          # + the students and the expert


def test_the_new_small_models_figure_names_few_judges_none_in_a_fixed_slot_each_with_its_n(table):
    """notebook 05's figure, as it draws it: the headline judges and the position-balanced listwise judge
    (its fixed-order twin, one slot per model, is left out by 05 and never drawn), n on every label, the
    judges' reliability as a caption inside the figure, data in every panel and on every row."""
    from harmstudy.stats import small_models

    harm = table("new_small_model_harm")
    names = headline.new_models_names(harm["rater"])
    reliability = small_models.judge_reliability(pd.read_csv(TABLES / "judge_agreement.csv"))
    caption = small_models.reliability_caption(reliability, list(names), names)
    fig = plots.harmful_share(harm, kinds=_kinds(table), caption=caption, names=names,
                              title="New small models: share judged harmful (95% Wilson CI)")
    assert problems(fig) == []                          # the caption too: inside the figure, over nothing
    panels = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == list(dict.fromkeys(harm["model"]))
    shown = [t.get_text() for t in panels[0].get_yticklabels()]
    assert 0 < len(shown) <= MAX_JUDGES and all("(n=" in t for t in shown)
    assert headline.BALANCED_EMBEDDED in names and headline.BEST_EMBEDDED not in set(harm["rater"])
    assert not any(t.startswith(headline.display_name(headline.BEST_EMBEDDED) + " (n=") for t in shown)
    for ax in panels:
        assert blank_rows(ax, list(range(len(shown)))) == [], ax.get_title()
    assert all(f"{name}: α" in caption for j, name in names.items() if j != "human")


def test_pointwise_calibration_axes_fit_the_data():
    from harmstudy.data import targets
    from harmstudy.data.release import load_release

    frame = targets.response_frame(load_release(), list(PAPER_MODELS))
    run = "pointwise-qwen2.5-coder-0.5b-instruct-paper-n85"
    scores = pd.read_csv(RUNS / run / "scores.csv").merge(frame[["item_id", "model", "label"]], on=["item_id", "model"])
    scores = scores[scores["score"].notna()].rename(columns={"score": "p_harmful"}).assign(
        judge="qwen2.5-coder-0.5b-instruct+pointwise")
    fig = plots.calibration(scores, bins=10, title="qwen2.5-coder-0.5b-instruct+pointwise: calibration")
    assert problems(fig) == []
    ax = fig.axes[0]
    points = np.concatenate([line.get_xydata() for line in ax.lines if line.get_label() != "calibrated"])
    for got, (lo, hi) in ((np.ptp(points[:, 0]), ax.get_xlim()), (np.ptp(points[:, 1]), ax.get_ylim())):
        assert got >= 0.4 * (hi - lo), f"the data span {got:.2f} of an axis of {hi - lo:.2f}"


def test_elicit_legend_covers_no_bar_and_says_the_token_cap(table):
    from harmstudy.elicit import response_stats

    responses = pd.read_json(RUNS / "elicit-default" / "responses.jsonl", lines=True)
    described = response_stats.describe_responses(responses)
    fig = plots.elicit_markers(described, table("elicit_summary"))
    assert problems(fig) == []
    words = " ".join(t.get_text() for t in fig.findobj(Text))
    assert "token" in words and "cap" in words


def test_external_agreement_legend_leaves_the_data_its_width_and_colours_mean_kinds(table):
    from matplotlib.colors import to_hex

    external = table("external_agreement")
    fig = plots.external_agreement(external)
    assert problems(fig) == []
    renderer = fig.canvas.get_renderer()
    page = fig.get_tightbbox(renderer).width * fig.dpi            # the saved figure's width, in pixels
    assert fig.axes[0].get_window_extent(renderer).width >= 0.6 * page       # not 40% of it for the legend
    kinds = external.drop_duplicates("judge").set_index("judge")["kind"]
    colors = {to_hex(line.get_color()) for line in fig.axes[0].lines if line.get_marker() not in ("None", "", None)}
    assert colors == {plots.GROUP_COLORS[plots.kind_group(k)].lower() for k in kinds}    # a colour: a judge kind


def test_transfer_matrix_puts_each_kind_of_alpha_on_its_own_scale(table):
    fig = plots.transfer_matrix(table("transfer_matrix"))
    assert problems(fig) == []
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) >= 2                                        # the paper's α and PyRIT's α apart


def test_set_cards_and_the_learning_curve(table):
    assert problems(plots.set_cards(table("external_cards"),
                                    "PyRIT's sets: validation cards (harmful = severity 3 of 5 or more)")) == []
    agree = table("judge_agreement")
    ceiling = agree[(agree["judge"] == "human") & (agree["reference"] == "expert") & (agree["metric"] == "alpha_ordinal")]
    fig = plots.learning_curve(table("learning_curve_summary"), ceiling=float(ceiling["estimate"].iloc[0]))
    assert problems(fig) == []
    from matplotlib.colors import to_hex

    colors = {line.get_label().split(" (")[0]: to_hex(line.get_color()) for line in fig.axes[0].lines}
    assert colors["learned-tfidf+embed"] == plots.GROUP_COLORS["learned from labels (offline)"].lower()
    assert {colors[j] for j in ("claude-sonnet", "gpt-4o", "llama")} == {plots.GROUP_COLORS["API judge (the paper's)"].lower()}


# --- the checks themselves can fail ----------------------------------------------------------------------------

def test_the_checks_see_an_overlap_a_covered_point_an_escape_and_an_empty_panel():
    fig, (a, b) = plt.subplots(1, 2, figsize=(4, 2))
    a.plot([0, 1], [0, 1], "o")
    a.text(0.0, 0.0, "over a point")
    a.text(0.5, 0.5, "one label")
    a.text(0.52, 0.5, "another label")
    fig.text(0.95, 0.5, "a label that runs off the figure")
    fig.canvas.draw()
    assert any("'one label' overlaps text 'another label'" in p for p in overlapping_labels(fig))
    assert any("'over a point' covers data" in p for p in labels_on_data(fig))
    assert any("runs off" in p for p in labels_outside(fig))
    assert empty_axes(fig) == ["axes '' is empty and says nothing"]
    b.text(0.5, 0.5, "not measured: no data", ha="center")
    assert empty_axes(fig) == []
    assert blank_rows(a, [0.0, 1.0, 2.0]) == [2.0]
    a.set_title("a title long enough to run over the next panel's frame")
    fig.canvas.draw()
    assert any("reaches into the axes" in p for p in labels_over_other_axes(fig))


def test_the_figures_call_the_students_students(table, dollars):
    """One name for the student groups: no figure labels them "human" or "people vs people"."""
    agree, card = table("judge_agreement"), table("judge_cards")
    ceiling = agree[(agree["judge"] == "human") & (agree["reference"] == "expert") & (agree["metric"] == "alpha_ordinal")]
    figures = [plots.judge_cards(card, names=headline.shown_names(card)), plots.judge_cards(card),
               plots.agreement_vs_cost(agree, names=headline.shown_names(agree), dollars=dollars),
               plots.judge_agreement(agree), plots.harmful_share(table("small_model_harm"), kinds=_kinds(table)),
               plots.learning_curve(table("learning_curve_summary"), ceiling=float(ceiling["estimate"].iloc[0]))]
    for fig in figures:
        words = " ".join(t.get_text() for t in fig.findobj(Text))
        assert "human" not in words.lower() and "people vs people" not in words, fig._suptitle
        assert "students" in words
