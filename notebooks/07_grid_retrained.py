# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Retraining a slice of the grid
#
# The paper trains 270 models (5 encodings × 3 losses × 2 optimisers × 3 schedulers × 3 sizes)
# on the full training data and finds that the choice of optimiser matters most: AdamW above
# Lion. The previous chapter reads that result from the paper's published scoreboards. This
# chapter retrains a slice of the grid live: the `onehotWithP` encoding with no scheduler, AdamW
# and Lion crossed with the L1 and MSE losses, two seeds each, and asks whether the optimiser's
# effect is larger than the difference two seeds of the same recipe make.
#
# On the `quick` preset every run trains the book's CPU model (Camformer Micro, as in the
# training chapter) for one epoch of 12,000 sequences of the measured test library, split by
# variant family, at the paper's learning rate without a scheduler (the `grid_slice` preset):
# a fixed amount of work, the same numbers on every build. **This is a small-data run: its
# correlations are far below the training chapter's and not comparable to the leaderboard**;
# the question is whether the ordering of the optimisers shows already at this scale. On the `paper` preset the
# slice trains Camformer Mini on the challenge's training data, as the paper did.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
train_file = ""

# %% tags=["remove-cell"]
# On Google Colab, install camformer first; elsewhere this cell does nothing. camformer asks for
# compatible ranges, so Colab's own torch, numpy and pandas are kept and only what it lacks is added.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/camformer/camformer"],
                   check=True)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from camformer import report
from camformer.grid import load_scoreboards, retrain_grid
from camformer.factorial import factor_effects, factor_effects_vs_seeds
from camformer.models import grid_configs
from camformer.presets import PAPER_SEEDS, paper_data, quick_data
from camformer.train import TrainConfig

out_dir = Path(results_dir) / preset
out_dir.mkdir(parents=True, exist_ok=True)
grids = [g for g in grid_configs() if g.size == "Mini" and g.encoding == "onehotWithP" and g.scheduler == "None"
         and g.loss in ("L1", "MSE")]
seeds = PAPER_SEEDS[:2]
if preset == "paper":
    if not train_file:
        from camformer import fetch

        train_file = fetch.fetch_file(fetch.TRAIN_FILE)
    base, architecture = TrainConfig.preset("paper"), None
    data = paper_data(train_file, out_dir / "grid_split", seed=base.seed)
else:
    # A fixed amount of work per run, in fp32: one epoch of 12,000 sequences (the grid_slice preset).
    base, architecture = TrainConfig.preset("grid_slice"), "micro"
    data = quick_data(base.train_size, base.val_size, base.test_size, seed=base.seed)
pd.DataFrame([{"id": g.id, "name": g.name, "loss": g.loss, "optimizer": g.optimizer} for g in grids])

# %%
table = retrain_grid(grids, seeds, base, data, progress=False, architecture=architecture)
table.to_csv(out_dir / "grid_retrained.csv", index=False)
table[["id", "size", "loss", "optimizer", "seed", "epochs", "val_pearson", "test_pearson", "test_spearman"]]

# %% [markdown]
# ## Held-out r by optimiser and loss
#
# Each point is one run (one seed); the bars are the means over seeds.

# %%
fig, ax = plt.subplots(figsize=(6, 3.5))
sns.barplot(data=table, x="loss", y="test_pearson", hue="optimizer", errorbar=None, alpha=0.6, ax=ax)
sns.stripplot(data=table, x="loss", y="test_pearson", hue="optimizer", dodge=True, palette="dark:k", size=4,
              legend=False, ax=ax)
ax.set(ylabel="held-out Pearson r", title=f"{table['size'].iloc[0]}, onehotWithP, no scheduler"
       + (" (small-data run)" if preset != "paper" else ""))
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Effects against the seed spread
#
# `camformer.factorial.factor_effects_vs_seeds`: a factor's effect is the range of its levels'
# mean held-out r; the seed spread is the range over the two seeds of one recipe, averaged over
# the four recipes.

# %%
effects = factor_effects_vs_seeds(table, ["optimizer", "loss"], "test_pearson").set_index("factor")
paper = load_scoreboards()
paper_slice = paper[(paper["size"] == "Mini") & (paper["encoding"] == "onehotWithP") & (paper["scheduler"] == "None")
                    & paper["loss function"].isin(["L1", "MSE"])]
paper_effects = factor_effects(paper_slice.rename(columns={"optimiser": "optimizer", "loss function": "loss"}),
                               ["optimizer", "loss"], "r").set_index("factor")
display(table.pivot_table(index="optimizer", columns="loss", values="test_pearson", aggfunc="mean").round(3))
effects.join(paper_effects[["best_level", "effect"]].add_suffix("_paper"))

# %%
opt, loss = effects.loc["optimizer"], effects.loc["loss"]
agrees = opt["best_level"] == paper_effects.loc["optimizer", "best_level"]
report.record(results_dir, preset, "grid_retrained", runs=len(table), n_train=len(data["train"]),
              model=str(table["size"].iloc[0]), optimizer_effect=opt["effect"], loss_effect=loss["effect"],
              seed_spread=opt["seed_spread"], best_optimizer=str(opt["best_level"]),
              optimizer_exceeds_seeds=str(bool(opt["exceeds_seeds"])),
              loss_exceeds_seeds=str(bool(loss["exceeds_seeds"])),
              optimizer_matters_most=str(bool(opt["effect"] > loss["effect"] and opt["exceeds_seeds"])),
              agrees_with_paper=str(bool(agrees)), constant_runs=int(opt["runs_left_out"]))
display(Markdown(
    f"Over {len(table)} runs on {len(data['train']):,} training sequences"
    + (" (a small-data run, not comparable to the leaderboard)" if preset != "paper" else "")
    + f", the best optimiser is {opt['best_level']} (mean held-out r {opt['best_mean']:.3f} against "
    f"{opt['worst_mean']:.3f}: an effect of {opt['effect']:.3f}); the better loss is {loss['best_level']} "
    f"(effect {loss['effect']:.3f}). Two seeds of one recipe differ by {opt['seed_spread']:.3f} on average. "
    + ("The optimiser's effect is larger than the seed spread" if opt["exceeds_seeds"]
       else "The optimiser's effect is not larger than the seed spread")
    + (", and so is the loss's" if loss["exceeds_seeds"] else ", the loss's is not")
    + (": here the optimiser matters most. " if opt["effect"] > loss["effect"] else
       ": here the loss matters more than the optimiser (the table of mean r by optimiser and loss above shows where). ")
    + f"On the same slice trained on the full data, the paper's scoreboard (`score_board_MiniModel.csv`) "
    f"ranks {paper_effects.loc['optimizer', 'best_level']} first (effect {paper_effects.loc['optimizer', 'effect']:.3f}, "
    f"loss effect {paper_effects.loc['loss', 'effect']:.3f}): "
    + ("this slice agrees." if agrees else "this slice does not agree.")
    + (f" {int(opt['runs_left_out'])} runs predicted one constant value (no r; left out)." if opt["runs_left_out"] else "")
))
