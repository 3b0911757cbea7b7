"""Figures of the evaluation chapters: measured against predicted (Figure 3, S2, S3, 5), seeds
(Figure 4, S5–S6, the radar plot S7, seed ensembles, S8), the leaderboard and bootstrap
distributions (Figure 6).

Every figure is sized for the book's column (7 in wide at most); a colour mapping gets a colour
bar, and each axis spans its own data (two quantities on different scales never share one).

Plotting only: the numbers come from :mod:`camformer.stats.metrics`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from camformer.stats.metrics import PAIR_SUBSETS, pearson_r, spearman_rho
from camformer.stats.seeds import curve_summary


def _stats_text(y: np.ndarray, yhat: np.ndarray, *, squared: bool = True, sep: str = ", ") -> str:
    """``"r² = 0.917, ρ = 0.963, n = 62,058"`` (``r`` instead of ``r²`` when not ``squared``)."""
    r = pearson_r(y, yhat)
    first = f"r² = {r * r:.3f}" if squared else f"r = {r:.3f}"
    return sep.join([first, f"ρ = {spearman_rho(y, yhat):.3f}", f"n = {len(y):,}"])


def density_scatter(
    ax: Axes,
    y: np.ndarray,
    yhat: np.ndarray,
    *,
    title: str = "",
    xlabel: str = "measured expression",
    ylabel: str = "predicted expression",
    gridsize: int = 60,
    diagonal: bool = False,
    fit: bool = False,
    norm=None,
):
    """Hexbin density of predicted ``yhat`` against measured ``y`` (both ``(n,)``), log-scaled
    counts; the title gets a second line with Pearson r², Spearman ρ and n, so no label sits on
    the data.

    Parameters
    ----------
    diagonal : bool
        Draw y = x (only where both axes share one scale).
    fit : bool
        Draw the least-squares line of ``yhat`` on ``y`` (for axes on different scales).
    norm : matplotlib Normalize, optional
        Colour scale of the counts; pass one norm to several panels to give them one colour bar.

    Returns
    -------
    The hexbin artist (for a colour bar).
    """
    y, yhat = np.asarray(y, np.float64), np.asarray(yhat, np.float64)
    kw = {"norm": norm} if norm is not None else {"bins": "log"}
    art = ax.hexbin(y, yhat, gridsize=gridsize, cmap="viridis", mincnt=1, linewidths=0, **kw)
    if diagonal:
        lo, hi = min(y.min(), yhat.min()), max(y.max(), yhat.max())
        ax.plot([lo, hi], [lo, hi], color="0.4", lw=0.8, ls="--")
    if fit:
        _fit_line(ax, y, yhat)
    heading = _stats_text(y, yhat)
    ax.set_title(f"{title}\n{heading}" if title else heading, fontsize=8)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.tick_params(labelsize=8)
    return art


def _fit_line(ax: Axes, y: np.ndarray, yhat: np.ndarray) -> None:
    """Least-squares line of ``yhat`` on ``y`` across the range of ``y`` (dashed red, as the paper)."""
    slope, intercept = np.polyfit(y, yhat, 1)
    xs = np.array([y.min(), y.max()])
    ax.plot(xs, intercept + slope * xs, color="#FF3333", lw=1, ls="--")


def mean_sd_curve(ax: Axes, table: pd.DataFrame, x: str, y: str, *, label: str = "", color=None) -> pd.DataFrame:
    """Mean ± standard deviation (``ddof=1``) of column ``y`` at each value of ``x``, as a line
    with a shaded band and the individual points behind it. Returns the per-``x`` summary."""
    summary = curve_summary(table, x, y)
    line, = ax.plot(summary[x], summary["mean"], marker="o", ms=3, label=label, color=color)
    ax.fill_between(summary[x], summary["mean"] - summary["std"].fillna(0),
                    summary["mean"] + summary["std"].fillna(0), color=line.get_color(), alpha=0.2, lw=0)
    ax.scatter(table[x], table[y], s=4, color=line.get_color(), alpha=0.25, lw=0)
    return summary


def measured_vs_predicted(panels: dict[str, tuple[np.ndarray, np.ndarray]], *, title: str = "{}",
                          ncols: int | None = None, figsize: tuple[float, float] = (7, 3.9),
                          colorbar: bool = True, suptitle: str | None = None, axes=None,
                          count_label: str = "sequences per hexagon", **scatter_kw):
    """One :func:`density_scatter` panel per entry of ``panels``, each on its own axes' scales.

    Parameters
    ----------
    panels : dict of str to (y, yhat)
        Panel name to measured and predicted values, each ``(n,)``.
    title : str
        Format string for each panel's title, filled with the panel name.
    ncols : int, optional
        Panels per row (all in one row when ``None``); unused axes are hidden.
    figsize : (float, float)
    colorbar : bool
        Draw every panel's counts on one logarithmic colour scale, with one colour bar
        (labelled ``count_label``) for all panels.
    suptitle : str, optional
        Title of the whole figure.
    axes : array of matplotlib Axes, optional
        At least one per panel; a new figure (``figsize``, ``ncols`` per row) when ``None``.
    **scatter_kw
        Passed to :func:`density_scatter` (``gridsize``, ``xlabel``, ``ylabel``, ``fit``,
        ``diagonal``); a callable ``xlabel`` or ``ylabel`` is called with the panel name.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import LogNorm

    if axes is None:
        ncols = ncols or len(panels)
        nrows = -(-len(panels) // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    else:
        axes = np.asarray(axes, dtype=object)
        fig = axes.flat[0].figure
    norm = LogNorm(vmin=1) if colorbar else None
    arts = []
    for ax, (name, (y, yhat)) in zip(axes.flat, panels.items()):
        kw = {k: v(name) if callable(v) else v for k, v in scatter_kw.items()}
        arts.append(density_scatter(ax, y, yhat, title=title.format(name), norm=norm, **kw))
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    if suptitle:
        fig.suptitle(suptitle)
    if colorbar:
        norm.vmax = max(float(art.get_array().max()) for art in arts)  # the panels share this norm
        fig.colorbar(arts[0], ax=list(axes.flat[:len(panels)]), label=count_label,
                     location="bottom", shrink=0.5, aspect=35)
    return fig


def seed_ensemble_curves(curves: dict[str, dict[str, pd.DataFrame]], *, axes=None,
                         x: str = "num_seeds", y: str = "average_score",
                         ylabel: str = "test {} (all 71,103)"):
    """Score against the number of seeds averaged: one panel per metric, one
    :func:`mean_sd_curve` per model.

    Parameters
    ----------
    curves : dict of str to dict of str to DataFrame
        Metric label (panel) to model name (line) to a table with columns ``x`` and ``y``
        (one row per combination of seeds, as the paper's ``seed_ensemble_*.csv``).
    axes : sequence of matplotlib Axes, optional
        One per metric; a new figure (7 x 3.2 in, constrained layout) when ``None``.
    x, y : str
        Columns of the tables.
    ylabel : str
        Format string for the y label, filled with the metric label.

    Returns
    -------
    array of matplotlib Axes
    """
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, len(curves), figsize=(7, 3.2), squeeze=False, layout="constrained")
        axes = axes[0]
    for ax, (label, per_model) in zip(axes, curves.items()):
        for name, table in per_model.items():
            mean_sd_curve(ax, table, x, y, label=name)
        ax.set(xlabel="seeds averaged", ylabel=ylabel.format(label), title=f"{label}: seed ensembles")
        ax.legend(fontsize=8)
    return np.asarray(axes)


def subset_panels(panels: dict[str, tuple[np.ndarray, np.ndarray]], *, suptitle: str | None = None,
                  ncols: int = 3, figsize: tuple[float, float] = (7, 7.6), gridsize: int = 35, axes=None):
    """Measured against predicted on each test subset (the paper's Figure S2): a grid of
    :func:`density_scatter` panels on one colour scale with one colour bar, each axis on its own
    scale with the least-squares line, labelled "alt − ref" for the variant subsets
    (:data:`camformer.stats.metrics.PAIR_SUBSETS`), whose values are differences.

    Parameters
    ----------
    panels : dict of str to (y, yhat)
        Subset name to measured and predicted values (or differences), each ``(n,)``, as
        :func:`camformer.stats.metrics.subset_values` returns them.
    suptitle : str, optional
    ncols : int
    figsize : (float, float)
    gridsize : int
        Hexagons across each panel.
    axes : array of matplotlib Axes, optional
        At least one per subset; a new figure when ``None``.

    Returns
    -------
    matplotlib Figure
    """
    def label(kind):
        return lambda subset: f"{kind} alt − ref" if subset in PAIR_SUBSETS else kind

    return measured_vs_predicted(panels, ncols=ncols, figsize=figsize, gridsize=gridsize, suptitle=suptitle,
                                 axes=axes, fit=True, xlabel=label("measured"), ylabel=label("predicted"))


# ----------------------------------------------------------------------------- Figure 3 / S3

def scatter_with_margins(
    y: np.ndarray,
    yhat: np.ndarray,
    groups: np.ndarray,
    *,
    private: np.ndarray | None = None,
    title: str = "",
    xlabel: str = "measured expression (test-set scale)",
    ylabel: str = "predicted expression (training scale)",
    bins: int = 100,
    figsize: tuple[float, float] = (6.2, 6.4),
):
    """Measured against predicted as the paper's Figure 3a / S3a draws it: every sequence as a
    point coloured by its group, each axis on its own scale, the least-squares line, marginal
    histograms, and n, Pearson r and Spearman ρ printed beside the panel.

    Parameters
    ----------
    y, yhat : numpy.ndarray
        Measured and predicted expression, ``(n,)`` each (their scales may differ: no y = x line).
    groups : numpy.ndarray
        A label per point ``(n,)`` (e.g. :func:`camformer.stats.metrics.primary_subset`); the largest
        group is drawn first, so the small ones stay visible.
    private : numpy.ndarray of bool, optional
        ``(n,)`` mask of a second set (the private leaderboard) whose n, r and ρ are printed too.
    title, xlabel, ylabel : str
    bins : int
        Bins of each marginal histogram.
    figsize : (float, float)

    Returns
    -------
    matplotlib Figure
        Axes in order: the scatter, the top histogram, the right histogram, the numbers' box.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    y, yhat, groups = np.asarray(y, np.float64), np.asarray(yhat, np.float64), np.asarray(groups)
    fig = plt.figure(figsize=figsize, layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=(4, 1.2), height_ratios=(1.2, 4))
    ax = fig.add_subplot(grid[1, 0])
    top = fig.add_subplot(grid[0, 0], sharex=ax)
    right = fig.add_subplot(grid[1, 1], sharey=ax)
    box = fig.add_subplot(grid[0, 1])
    names, counts = np.unique(groups, return_counts=True)
    colours = dict(zip(names[np.argsort(-counts)], plt.get_cmap("tab10").colors))
    for name in names[np.argsort(-counts)]:
        keep = groups == name
        ax.scatter(y[keep], yhat[keep], s=1.5, lw=0, alpha=0.35, color=colours[name], rasterized=True)
    _fit_line(ax, y, yhat)
    top.hist(y, bins=bins, color="0.7")
    right.hist(yhat, bins=bins, color="0.7", orientation="horizontal")
    top.set_ylabel("count")
    right.set_xlabel("count")
    top.tick_params(labelbottom=False)
    right.tick_params(labelleft=False)
    ax.set(xlabel=xlabel, ylabel=ylabel)
    text = "all sequences\n" + _stats_text(y, yhat, squared=False, sep="\n")
    if private is not None:
        private = np.asarray(private, bool)
        text += "\n\nprivate set\n" + _stats_text(y[private], yhat[private], squared=False, sep="\n")
    box.axis("off")
    box.text(0.05, 1.0, text, va="top", ha="left", fontsize=8.5, transform=box.transAxes)
    handles = [Line2D([], [], ls="", marker="o", ms=5, color=colours[n], label=f"{n} ({c:,})")
               for n, c in sorted(zip(names, counts), key=lambda item: -item[1])]
    handles.append(Line2D([], [], color="#FF3333", ls="--", label="least-squares line"))
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------- Figure 4, S5–S6

#: Line colours of the leaderboard's teams in Figure 4 and S5–S6 (as the paper's script).
TEAM_COLOURS: tuple[str, ...] = ("#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#000000")
#: Axis labels of the leaderboard's metrics.
METRIC_NAMES: dict[str, str] = {"r²": "Pearson r²", "ρ": "Spearman ρ"}


def seed_boxplots(
    values: pd.DataFrame,
    board: pd.DataFrame,
    groups: list[str],
    *,
    metrics: tuple[str, ...] = ("ρ", "r²"),
    labels: dict[str, str] | None = None,
    ncols: int = 2,
    figsize: tuple[float, float] = (7, 9.5),
    title: str = "",
    seed: int = 0,
):
    """Models' results over training seeds per subset, with the leaderboard's teams as dashed
    lines: the paper's Figure 4 (two models) and S5–S6 (five).

    Parameters
    ----------
    values : DataFrame
        Columns ``model``, ``metric``, ``group``, ``value`` (:func:`camformer.stats.seeds.per_subset_seeds`);
        the models are drawn in the order they first appear.
    board : DataFrame
        The leaderboard (:func:`camformer.stats.leaderboard.load_leaderboard`): index ``(metric, team)``,
        a column per group.
    groups : list of str
        Subsets (or ``"score"``) to draw; one panel per group and metric, in that order, ``ncols``
        panels per row.
    metrics : tuple of str
        ``"ρ"`` and/or ``"r²"``.
    labels : dict of str to str, optional
        Tick label per model (default the model's name).
    ncols : int
    figsize : (float, float)
    title : str
        Title of the whole figure.
    seed : int
        Seed of the points' horizontal jitter.

    Returns
    -------
    matplotlib Figure
        The panels share one legend of the teams; each panel's y range spans its boxes and lines.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    models = list(dict.fromkeys(values["model"]))
    labels = labels or {}
    teams = list(dict.fromkeys(board.index.get_level_values("team")))
    team_colours = dict(zip(teams, TEAM_COLOURS * (len(teams) // len(TEAM_COLOURS) + 1)))
    box_colours = dict(zip(models, ("#e41a1c", "#984ea3", "#999999", "#999999", "#999999")))
    panels = [(g, m) for g in groups for m in metrics]
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    rng = np.random.default_rng(seed)
    for ax, (group, metric) in zip(axes.flat, panels):
        sub = values[(values["group"] == group) & (values["metric"] == metric)]
        data = [sub.loc[sub["model"] == m, "value"].to_numpy() for m in models]
        parts = ax.boxplot(data, patch_artist=True, widths=0.55, showfliers=False,
                           medianprops={"color": "0.2"})
        for patch, model in zip(parts["boxes"], models):
            patch.set(facecolor=box_colours.get(model, "#999999"), alpha=0.45, edgecolor="0.4")
        for i, d in enumerate(data, start=1):
            ax.scatter(i + rng.uniform(-0.15, 0.15, len(d)), d, s=8, color="black", alpha=0.8, lw=0, zorder=3)
        lines = board.loc[metric, group]
        ax.hlines(lines.to_numpy(), 0.5, len(models) + 0.5, colors=[team_colours[t] for t in lines.index],
                  linestyles="--", lw=1)
        every = np.concatenate([*data, lines.to_numpy()])
        pad = 0.04 * (every.max() - every.min())
        ax.set(ylim=(every.min() - pad, every.max() + pad), xlim=(0.5, len(models) + 0.5),
               ylabel=METRIC_NAMES.get(metric, metric))
        ax.set_title(group.replace("_", " "), fontsize=9)
        ax.set_xticks(range(1, len(models) + 1), [labels.get(m, m) for m in models])
        ax.tick_params(labelsize=8)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=team_colours[t], ls="--", label=t) for t in teams]
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(teams), 3), fontsize=8,
               title="challenge leaderboard (dashed)", title_fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


#: Line colours of the Camformer variants in the paper's radar plot (Figure S7; its ``plot_utils.py``).
VARIANT_COLOURS: dict[str, str] = {"Orig": "blue", "Large": "red", "Small": "orange", "Mini": "green"}
#: Spoke labels of the radar plot: the paper's short subset names.
SPOKE_NAMES: dict[str, str] = {"challenging": "chal", "motif_perturbation": "mot pert", "motif_tiling": "mot tiling"}


def seed_radar(
    means: pd.DataFrame,
    models: list[str],
    *,
    metrics: tuple[str, ...] = ("r", "ρ"),
    colours: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    title: str = "",
    figsize: tuple[float, float] = (7, 4.2),
):
    """The paper's radar plot (Figure S7): per metric, a polar panel with one spoke per subset and,
    per model, its mean over seeds on every spoke joined into a closed line, with ± one s.d. bars.

    As the paper's ``plot_radar_plots_avg``: the spokes start at 3 o'clock and run anticlockwise in
    the order of ``means``; the radius runs from 0 to 1 (here labelled, so the values can be read).

    Parameters
    ----------
    means : DataFrame
        :func:`camformer.stats.seeds.seed_means` (index ``model, metric, group``; columns ``mean``,
        ``sd``); the ``"score"`` group (a weighted score, not a correlation) is left out.
    models : list of str
        Models to draw, in the legend's order.
    metrics : tuple of str
        One panel per metric (``"r"``, ``"r²"`` or ``"ρ"``).
    colours, labels : dict of str to str, optional
        Line colour and legend label per model (default :data:`VARIANT_COLOURS`, the model's name).
    title : str
    figsize : (float, float)

    Returns
    -------
    matplotlib Figure
        One polar axes per metric, in order; each holds a line per model with ``len(groups) + 1``
        points (closed) and its error bars.
    """
    import matplotlib.pyplot as plt

    colours, labels = colours or VARIANT_COLOURS, labels or {}
    groups = [g for g in dict.fromkeys(means.index.get_level_values("group")) if g != "score"]
    angles = np.linspace(0, 2 * np.pi, len(groups), endpoint=False)
    closed = np.append(angles, angles[0])
    fig, axes = plt.subplots(1, len(metrics), figsize=figsize, subplot_kw={"polar": True}, squeeze=False,
                             layout="constrained")
    for ax, metric in zip(axes.flat, metrics):
        for model in models:
            rows = means.loc[[(model, metric, g) for g in groups]]
            mean, sd = rows["mean"].to_numpy(), rows["sd"].to_numpy()
            colour = colours.get(model)
            ax.plot(closed, np.append(mean, mean[0]), color=colour, lw=1.2, label=labels.get(model, model))
            ax.errorbar(angles, mean, yerr=sd, fmt="o", ms=3, color=colour, capsize=2, lw=1)
        ax.set_ylim(0, 1)
        ax.set_yticks([0.25, 0.5, 0.75, 1.0], ["0.25", "0.5", "0.75", "1"], fontsize=6, color="0.4")
        ax.set_rlabel_position(np.degrees(angles[len(groups) * 3 // 5]) + 20)  # where the lines run far out
        ax.set_xticks(angles, [SPOKE_NAMES.get(g, g) for g in groups], fontsize=7.5)
        ax.set_title(METRIC_NAMES.get(metric, {"r": "Pearson r"}.get(metric, metric)), fontsize=9)
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="outside lower center", ncol=len(models), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


def team_heatmaps(board: pd.DataFrame, *, not_comparable: tuple[str, ...] = (),
                  metrics: tuple[str, ...] = ("r²", "ρ"), figsize: tuple[float, float] | None = None):
    """The leaderboard as heatmaps, one per metric, with each cell's value written in it.

    The colour range of each metric spans the comparable rows only; rows in ``not_comparable``
    (a model scored on other sequences) are drawn in grey outside the colour mapping, their values
    written in grey.

    Parameters
    ----------
    board : DataFrame
        Index ``(metric, team)``, columns the subsets and ``score``
        (:func:`camformer.stats.leaderboard.leaderboard_board`).
    not_comparable : tuple of str
        Teams (rows) to leave out of the colour range.
    metrics : tuple of str
    figsize : (float, float), optional
        Default 7 in wide, tall enough for every row.

    Returns
    -------
    matplotlib Figure
    """
    import matplotlib.pyplot as plt

    n_rows = len(board.loc[metrics[0]])
    figsize = figsize or (7, len(metrics) * (0.3 * n_rows + 1.6))
    fig, axes = plt.subplots(len(metrics), 1, figsize=figsize, squeeze=False, layout="constrained")
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.88")
    for ax, metric in zip(axes[:, 0], metrics):
        table = board.loc[metric]
        grey = table.index.isin(not_comparable)
        shown = np.ma.masked_array(table.to_numpy(np.float64), mask=np.repeat(grey[:, None], table.shape[1], 1))
        shown = np.ma.masked_invalid(shown)
        image = ax.imshow(shown, cmap=cmap, aspect="auto", vmin=shown.min(), vmax=shown.max())
        for (i, j), value in np.ndenumerate(table.to_numpy(np.float64)):
            light = not grey[i] and np.isfinite(value) and image.norm(value) < 0.6
            ax.text(j, i, "–" if not np.isfinite(value) else f"{value:.2f}", ha="center", va="center",
                    fontsize=7, color="white" if light else ("0.35" if grey[i] else "black"))
        ax.set_xticks(range(table.shape[1]), table.columns, rotation=40, ha="right", rotation_mode="anchor")
        ax.set_yticks(range(len(table)), table.index)
        ax.tick_params(labelsize=8, length=0)
        ax.set_title(METRIC_NAMES.get(metric, metric))
        fig.colorbar(image, ax=ax, label=metric, fraction=0.04, pad=0.02)
    return fig


# ----------------------------------------------------------------------------- S8, Figure 6

def training_size_curves(tables: dict[str, dict[str, pd.DataFrame]], *, x: str = "Training data size",
                         y: str = "score", xlabel: str = "training sequences (millions)",
                         ylabel: str = "Pearson r", figsize: tuple[float, float] = (7, 3.2)):
    """Test score against training-set size over seeds (the paper's Figure S8): one panel per
    entry of ``tables`` (panel title to model name to a table with columns ``x`` and ``y``, one row
    per size and seed), one :func:`mean_sd_curve` per model. Returns the Figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tables), figsize=figsize, squeeze=False, layout="constrained")
    for ax, (name, per_model) in zip(axes[0], tables.items()):
        for model, table in per_model.items():
            mean_sd_curve(ax, table, x, y, label=model)
        ax.set(title=name, xlabel=xlabel, ylabel=ylabel)
        ax.legend(fontsize=8)
    return fig


def bootstrap_violins(samples: dict[str, pd.DataFrame], *, ylabel: str = "Pearson r of a resample",
                      figsize: tuple[float, float] = (7, 6.4)):
    """Bootstrap distributions per model (the paper's Figure 6): one panel per entry of ``samples``
    (panel title to a table of resamples ``(B, models)``), one violin per column with its median
    and central 95% range marked. Panels are stacked so that the model names stay readable."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(samples), 1, figsize=figsize, squeeze=False, layout="constrained")
    for ax, (name, table) in zip(axes[:, 0], samples.items()):
        columns = [table[c].dropna().to_numpy() for c in table.columns]
        ax.violinplot(columns, showextrema=False, showmedians=True, quantiles=[[0.025, 0.975]] * len(columns))
        ax.set_xticks(range(1, len(columns) + 1), table.columns)
        ax.set(title=name, ylabel=ylabel)
        ax.tick_params(labelsize=8)
    return fig


def overlaid_histograms(samples: dict[str, np.ndarray], *, xlabel: str, title: str = "", bins: int = 60,
                        figsize: tuple[float, float] = (5.5, 3.2)):
    """Density histograms of several samples on one axes (on shared bins), with a legend.
    Returns the Figure."""
    import matplotlib.pyplot as plt

    arrays = {name: np.asarray(values, np.float64) for name, values in samples.items()}
    edges = np.histogram_bin_edges(np.concatenate(list(arrays.values())), bins)
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    for name, values in arrays.items():
        ax.hist(values, bins=edges, alpha=0.55, density=True, label=name)
    ax.set(xlabel=xlabel, ylabel="density", title=title)
    ax.legend(fontsize=8)
    return fig


def distance_histogram(distances: np.ndarray, *, max_distance: int = 5, ax: Axes | None = None) -> Axes:
    """Held-out sequences by their number of substitutions to the nearest training sequence
    (``camformer.data.similarity.nearest_distances``), one bar per distance on a log scale (the near
    tail is small beside the bulk), with the band ``<= max_distance`` shaded."""
    import matplotlib.pyplot as plt

    d = np.asarray(distances, dtype=np.int64)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 2.8))
    ax.hist(d, bins=np.arange(-0.5, d.max() + 1.5, 1), color="0.35")
    ax.axvspan(-0.5, max_distance + 0.5, color="tab:red", alpha=0.12,
               label=f"within {max_distance} substitutions")
    ax.set_xlim(-0.5, d.max() + 1.5)
    ax.set_yscale("log")
    ax.set(xlabel="substitutions to the nearest training sequence (80 nt)", ylabel="held-out sequences")
    ax.legend(frameon=False, loc="upper left")
    ax.figure.tight_layout()
    return ax


def learning_curves(history: pd.DataFrame, *, loss: str = "loss", suptitle: str | None = None):
    """Training and validation loss, and validation r and ρ, after each epoch (ticks on whole epochs).

    ``history`` has columns ``epoch, train_loss, val_loss, val_pearson, val_spearman`` (a
    ``camformer.training.train.TrainResult.history``) and, for a seed ensemble, ``seed``: one line per seed
    in each quantity's colour, the legend saying so. Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 2, figsize=(7, 3))
    runs = list(history.groupby("seed", sort=False)) if "seed" in history else [(None, history)]
    each = f" (a line per seed, {len(runs)})" if len(runs) > 1 else ""
    for ax, columns, labels, ylabel, title in (
            (axes[0], ("train_loss", "val_loss"), ("training", "validation"), f"{loss} loss", "Loss"),
            (axes[1], ("val_pearson", "val_spearman"), ("Pearson r", "Spearman ρ"), "validation correlation",
             "Validation")):
        for colour, (column, label) in enumerate(zip(columns, labels)):
            for i, (_, run) in enumerate(runs):
                ax.plot(run["epoch"], run[column], "o-", color=f"C{colour}", alpha=1.0 if len(runs) == 1 else 0.6,
                        lw=1.5 if len(runs) == 1 else 1.0, ms=4 if len(runs) == 1 else 3,
                        label=label + each if i == 0 else None)
        ax.set(xlabel="epoch", ylabel=ylabel, title=title)
        ax.legend(frameon=False, fontsize=8 if each else None)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlim(history["epoch"].min() - 0.25, history["epoch"].max() + 0.25)
    if suptitle:
        fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    return fig
