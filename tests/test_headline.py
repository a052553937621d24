"""The judges a reader meets first (harmstudy.headline): six, plainly named, in the main figures; a
student's own judge is never hidden; every judge stays in the tables and the *_all figures."""
import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402
from pathlib import Path  # noqa: E402

from harmstudy import headline  # noqa: E402
from harmstudy.report import plots  # noqa: E402
from harmstudy.stats import claims  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


def test_the_committed_study_shows_six_judges_and_a_students_own_judge_is_added():
    table = pd.read_csv(REPO / "figures" / "tables" / "judge_agreement.csv")
    judges = table["judge"]
    shown = headline.shown_names(table)
    assert list(shown) == ["claude-sonnet", "gpt-4o", "llama", "learned-tfidf+embed+distilled",
                           "learned-tfidf+embed", "qwen2.5-coder-1.5b-instruct"]
    assert judges.nunique() > 20                                   # every judge stays in the table
    assert claims.BEST_OFFLINE == headline.BEST_OFFLINE            # the claims' best offline judge is shown
    assert headline.display_name("learned-tfidf+embed+distilled") == "text classifier, API-distilled (offline at inference)"
    mine = headline.shown_names(pd.concat([table, pd.DataFrame({"judge": ["openai/gpt-4o-mini", "learned-tfidf+mine"],
                                                                "kind": ["listwise", "learned"]})]))
    assert "openai/gpt-4o-mini" in mine and mine["openai/gpt-4o-mini"] == "openai/gpt-4o-mini"
    assert "learned-tfidf+mine" not in mine and len(mine) == 7


def test_a_main_figure_labels_the_headline_judges_by_their_plain_names_and_n():
    rows = [{"judge": j, "reference": "human", "metric": "alpha_ordinal", "estimate": e, "ci_low": e - 0.1,
             "ci_high": e + 0.1, "n": n, "kind": k}
            for j, e, n, k in [("claude-sonnet", 0.44, 984, "api"), ("learned-tfidf+embed", 0.33, 1019, "learned"),
                               ("learned-tfidf+gemma", 0.35, 1019, "learned")]]
    rows.append({"judge": "human", "reference": "expert", "metric": "alpha_ordinal", "estimate": 0.75,
                 "ci_low": 0.65, "ci_high": 0.84, "n": 85, "kind": "human"})
    table = pd.DataFrame(rows)
    fig = plots.judge_agreement(table, metrics=("alpha_ordinal",), names=headline.shown_names(table))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["Claude Sonnet (API; the paper's) (n=984)", "text classifier, students' labels only (n=1019)"]
    every = plots.judge_agreement(table, metrics=("alpha_ordinal",))
    assert [t.get_text() for t in every.axes[0].get_yticklabels()] == [
        "claude-sonnet (n=984)", "learned-tfidf+gemma (n=1019)", "learned-tfidf+embed (n=1019)"]
