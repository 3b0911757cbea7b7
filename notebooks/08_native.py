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
from IPython.display import Markdown, display

from camformer.data import dream
from camformer.plots import plot_eval
from camformer.records import book, report
from camformer.stats import bootstrap, seeds

n_boot = book.chapter_start(preset, n_boot)  # fewer resamples on smoke
media = ("complex", "defined")
scatter = {m: dream.load_paper_table(f"Native_{m}_Camformer_scatter.csv.gz")
           for m in media}

# %% [markdown]
# ## Measured against predicted (Figure 5)
#
# Source: `paper/Native_complex_Camformer_scatter.csv.gz` and `paper/Native_defined_Camformer_scatter.csv.gz`
# (columns `y_true`, `y_pred`: measured and Camformer-predicted expression of the held-out native
# promoters). Both are on one scale here, so the dashed line is y = x.

# %%
values = {m: (t["y_true"].to_numpy(), t["y_pred"].to_numpy())
          for m, t in scatter.items()}
plot_eval.measured_vs_predicted(
    values, title="native promoters, {} medium", diagonal=True, gridsize=45,
    count_label="promoters per hexagon")
plt.show()

# %%
native = bootstrap.bootstrap_table(
    values, n_boot=n_boot, seed=seed,
    metrics=("pearson_r", "pearson_r2", "spearman_rho"))
display(native.style.format("{:.4f}").format("{:,}", subset=["n"]))

# %% tags=["remove-input"]
r, rho = (native.xs(k, level=1)["estimate"] for k in ("r", "ρ"))
display(Markdown(
    f"On native promoters Camformer reaches r {r['complex']:.3f} (complex "
    f"medium) and {r['defined']:.3f} (defined medium), with ρ "
    f"{rho['complex']:.3f} and {rho['defined']:.3f}; the bootstrap intervals "
    f"({n_boot:,} resamples of the promoters) are at most "
    f"{(native['95% high'] - native['95% low']).max():.3f} wide."))

# %% [markdown]
# ## Training-data size and seeds (Figure S8)
#
# Source: `paper/Fig_S8_Native_{complex,defined}_{Camformer,Camformer-Mini}_trn_seeds.csv`: for
# each training-data size (the files' `Training data size` column: millions of training
# sequences, as the paper's axis reads "2M" to "31M") and each of three training seeds, the
# Pearson r of a model trained on that much data on the held-out promoters. The line is the
# mean over seeds, the band ± one standard deviation, the dots the seeds.

# %%
models = {"Camformer": "Camformer", "Camformer-Mini": "Camformer Mini"}
curves = {(m, name): dream.load_paper_table(
    f"Fig_S8_Native_{m}_{model}_trn_seeds.csv")
    for m in media for model, name in models.items()}
plot_eval.training_size_curves(
    {f"{m} medium": {k: t for (mm, k), t in curves.items() if mm == m}
     for m in media})
plt.show()
display(seeds.curve_ends(curves, "Training data size", "score")
        .style.format("{:.3f}", subset=["largest s.d."]))
apart = {m: seeds.curves_separated(
    curves[(m, "Camformer")], curves[(m, "Camformer Mini")],
    "Training data size", "score", names=("Camformer", "Mini")) for m in media}

# %% tags=["remove-input"]
display(Markdown(" ".join(f"In the {m} medium, {v} (Camformer − Mini: "
                          f"{v.ci_low:.3f} to {v.ci_high:.3f} seed against "
                          "seed)." for m, v in apart.items())))

# %%
report.record(
    results_dir, preset, "native",
    **{f"{m}_{k}{end}": native.loc[(m, label), column]
       for m in media for k, label in (("r", "r"), ("rho", "ρ"))
       for end, column in (("", "estimate"), ("_ci_low", "95% low"),
                           ("_ci_high", "95% high"))},
    **{k: v for m in media
       for k, v in apart[m].facts(f"camformer_minus_mini_{m}").items()})
