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
# # Native yeast promoters
#
# Random promoters are one test; native yeast promoters are another. The paper also trained
# Camformer on the native-promoter data of two growth media, complex and defined, and scored it on
# held-out native promoters (its Figure 5), and it asked how performance grows with the amount of
# training data, across training seeds (Figure S8).
#
# Neither the native training data nor these models ship with this package, and training them needs
# a GPU. So this chapter draws both figures from the paper's published figure data, named under each
# figure; the correlations and intervals on this page are computed here from those files.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"
n_boot = 1000
seed = 0

# %% tags=["remove-cell"]
# On Google Colab, install camformer first; elsewhere this cell does nothing. camformer asks for
# compatible ranges, so Colab's own torch, numpy and pandas are kept and only what it lacks is added.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/camformer/camformer"],
                   check=True)

# %%
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from camformer import bootstrap, data, metrics, plot_eval, report

media = ("complex", "defined")
scatter = {m: data.load_paper_table(f"Native_{m}_Camformer_scatter.csv.gz") for m in media}

# %% [markdown]
# ## Measured against predicted (Figure 5)
#
# Source: `paper/Native_complex_Camformer_scatter.csv.gz` and `paper/Native_defined_Camformer_scatter.csv.gz`
# (columns `y_true`, `y_pred`: measured and Camformer-predicted expression of the held-out native promoters).

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, m in zip(axes, media):
    art = plot_eval.density_scatter(ax, scatter[m]["y_true"], scatter[m]["y_pred"], gridsize=45,
                                    title=f"native promoters, {m} medium")
fig.colorbar(art, ax=axes, label="promoters per hexagon")
plt.show()

# %%
rows = []
for m in media:
    y, yhat = scatter[m]["y_true"].to_numpy(), scatter[m]["y_pred"].to_numpy()
    for metric, label in (("pearson_r", "r"), ("pearson_r2", "r²"), ("spearman_rho", "ρ")):
        low, high = bootstrap.bootstrap_ci(y, yhat, metric, n_boot=n_boot, seed=seed)
        point = {"pearson_r": metrics.pearson_r(y, yhat), "spearman_rho": metrics.spearman_rho(y, yhat)}
        point["pearson_r2"] = point["pearson_r"] ** 2
        rows.append({"medium": m, "metric": label, "n": len(y), "estimate": point[metric],
                     "95% low": low, "95% high": high})
native = pd.DataFrame(rows).set_index(["medium", "metric"])
display(native.style.format("{:.4f}").format("{:,}", subset=["n"]))
display(Markdown(
    f"On native promoters Camformer reaches r {native.loc[('complex', 'r'), 'estimate']:.3f} (complex medium) and "
    f"{native.loc[('defined', 'r'), 'estimate']:.3f} (defined medium), with ρ "
    f"{native.loc[('complex', 'ρ'), 'estimate']:.3f} and {native.loc[('defined', 'ρ'), 'estimate']:.3f}; the "
    f"bootstrap intervals ({n_boot:,} resamples of the promoters) are about "
    f"{(native['95% high'] - native['95% low']).max():.3f} wide at most."
))

# %% [markdown]
# ## Training-data size and seeds (Figure S8)
#
# Source: `paper/Fig_S8_Native_{complex,defined}_{Camformer,Camformer-Mini}_trn_seeds.csv`: for each
# training-data size (the files' `Training data size` column, in the paper's units) and each of three
# training seeds, the published test score of a model trained on that much data. The line is the mean
# over seeds, the band ± one standard deviation.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
curves = {}
for ax, m in zip(axes, media):
    for model in ("Camformer", "Camformer-Mini"):
        table = data.load_paper_table(f"Fig_S8_Native_{m}_{model}_trn_seeds.csv")
        curves[(m, model)] = plot_eval.mean_sd_curve(ax, table, "Training data size", "score", label=model)
    ax.set(title=f"{m} medium", xlabel="training data size (published units)", ylabel="test score")
    ax.legend()
fig.tight_layout()
plt.show()

# %%
lines = []
for (m, model), c in curves.items():
    first, last = c.iloc[0], c.iloc[-1]
    lines.append(f"- {model}, {m}: {first['mean']:.3f} ± {first['std']:.3f} at size {first['Training data size']:g}, "
                 f"{last['mean']:.3f} ± {last['std']:.3f} at size {last['Training data size']:g} "
                 f"(largest seed s.d. along the curve {c['std'].max():.3f})")
display(Markdown(
    "Mean ± s.d. over seeds at the smallest and largest training sizes:\n\n" + "\n".join(lines)
    + "\n\nThe full-size Camformer stays ahead of Mini at every size, and the spread over seeds is small "
    "next to the gap between the two models."
    if all(curves[(m, "Camformer")]["mean"].min() > curves[(m, "Camformer-Mini")]["mean"].max() for m in media)
    else "Mean ± s.d. over seeds at the smallest and largest training sizes:\n\n" + "\n".join(lines)
))
report.record(results_dir, preset, "native",
              complex_r=native.loc[("complex", "r"), "estimate"], complex_rho=native.loc[("complex", "ρ"), "estimate"],
              defined_r=native.loc[("defined", "r"), "estimate"], defined_rho=native.loc[("defined", "ρ"), "estimate"])
