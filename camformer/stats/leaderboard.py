"""The challenge's leaderboard: the published final (private) board, teams' scores and places.

The board is the paper's ``paper/sota.csv`` (from Rafi et al. 2024); a model scored here with
:func:`camformer.stats.metrics.score_predictions` joins it through :func:`camformer.stats.metrics.leaderboard_layout`.
"""

from __future__ import annotations

import pandas as pd

from camformer.data.dream import load_paper_table


def load_leaderboard() -> pd.DataFrame:
    """The challenge's final private leaderboard as the paper publishes it (``paper/sota.csv``,
    from Rafi et al. 2024): index ``(metric, team)`` with metric ``"r²"`` (Pearson r², the sheet's
    "pearson") or ``"ρ"``, columns the subsets of :data:`SUBSETS` and the weighted ``score``."""
    board = load_paper_table("sota.csv", sep="\t", index_col=[0, 1])
    board.index.names = ["metric", "team"]
    return board.rename(index={"pearson": "r²", "spearman": "ρ"}, level="metric")


def challenge_scores(board: pd.DataFrame) -> pd.DataFrame:
    """Each team's two weighted scores from a :func:`load_leaderboard` table: columns
    ``Pearson score`` (the r² rows' ``score``) and ``Spearman score`` (the ρ rows')."""
    return pd.DataFrame({"Pearson score": board.loc["r²", "score"], "Spearman score": board.loc["ρ", "score"]})


def leaderboard_board(published: pd.DataFrame, extra: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The leaderboard with extra rows: ``published`` (index ``metric, team``) and, for each
    extra team, its :func:`camformer.stats.metrics.leaderboard_layout` (index ``metric``), grouped by metric."""
    rows = pd.concat({team: layout for team, layout in extra.items()}, names=["team", "metric"])
    rows = rows.swaplevel().sort_index(level="metric", sort_remaining=False)
    return pd.concat([published, rows])


def rank_teams(scores: pd.DataFrame) -> pd.DataFrame:
    """Each team's place by each score column (1 = the highest score; tied teams share the best
    place, as ``pandas.Series.rank(method="min")``)."""
    return scores.rank(ascending=False, method="min").astype(int)


def place_among(scores: pd.DataFrame, entry: dict[str, float]) -> dict[str, int]:
    """The place ``entry`` (one value per score column) would take among the teams of ``scores``:
    1 + the number of teams with a strictly higher score, per column."""
    return {column: int((scores[column] > value).sum()) + 1 for column, value in entry.items()}



def ordinal(n: int) -> str:
    """``1`` -> ``"1st"``, ``2`` -> ``"2nd"``, ``11`` -> ``"11th"``, ``23`` -> ``"23rd"``."""
    n = int(n)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def place_words(ranks: pd.DataFrame, team: str) -> str:
    """A team's places by both official scores, from :func:`rank_teams`:
    ``"4th by the Spearman score, 5th by the Pearson score"``; one place when both agree."""
    spearman, pearson = int(ranks.loc[team, "Spearman score"]), int(ranks.loc[team, "Pearson score"])
    if spearman == pearson:
        return f"{ordinal(spearman)} by both the Spearman and the Pearson score"
    return f"{ordinal(spearman)} by the Spearman score, {ordinal(pearson)} by the Pearson score"
