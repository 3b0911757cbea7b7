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
# # Camformer: an executable paper
#
# This book reproduces *Camformer: Predicting gene expression using millions of yeast
# promoters reveals cis-regulatory logic* {cite}`camformer`, from the Bornelöv lab: a residual
# convolutional neural network that predicts the expression of a 110-nt yeast promoter,
# trained on the 6.7 million random promoters of the Random Promoter DREAM Challenge 2022
# {cite}`rafi2024`. Every chapter is a notebook that runs the `camformer` package on data shown
# on the page and draws one of the paper's results, in the paper's order.

# %% tags=["parameters"]
preset = "quick"
results_dir = "results"

# %% tags=["remove-cell"]
# On Google Colab, install camformer first; elsewhere this cell does nothing. camformer asks for
# compatible ranges, so Colab's own torch, numpy and pandas are kept and only what it lacks is added.
import sys

if "google.colab" in sys.modules:
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/camformer/camformer"],
                   check=True)

# %% [markdown]
# ## The paper's claims and this book's verdicts
#
# The claims of the paper's abstract, each with the chapter that reproduces it, how, and its
# verdict in the [reproduction audit](15_audit.ipynb), which judges every figure of the paper
# too. This table is the audit's own (its items in `book/audit.yml`, judged by `camformer.records.audit`
# against the numbers the chapters recorded when this page was built); open a claim to see its
# numbers, the paper's beside this book's.

# %% tags=["remove-input"]
from IPython.display import Markdown, display

from camformer.records import audit, report

records = report.load_records(results_dir, preset)
titles = report.chapter_titles("notebooks")
judged = audit.audit(audit.load_audit("book/audit.yml"), records, preset)
claims = audit.abstract_items(judged)
display(Markdown(audit.audit_markdown(claims, titles)))
display(Markdown(audit.audit_details(claims, titles)))
n_sections = records["section"].nunique()
display(Markdown(
    f"Preset: `{preset}`. {audit.audit_summary(judged)} The book's numbers "
    f"were computed by the chapters when this page was built ({len(records)} "
    f"numbers recorded in {n_sections} chapters)."
))

# %% [markdown]
# On the `quick` preset the book trains its own small model (Camformer Micro) for minutes on a
# CPU, on part of the measured test library, so its trained-model numbers are a small-data
# demonstration, not comparable to the paper's; the published-data numbers (the leaderboard, the
# scores of the published predictions, the parameter counts) should agree with the paper. Each
# chapter says which of the two kinds its figure is, and which model it explains.
#
# ## Every number the chapters recorded
#
# All of them, chapter by chapter, the claims' numbers included. A number recorded with its
# uncertainty shows its 95% interval in brackets.

# %% tags=["remove-input"]
import pandas as pd

groups = report.records_by_chapter(
    records, report.record_sections("notebooks"), list(titles))
if not groups:
    display(Markdown("No numbers were recorded on this preset."))
for chapter, rows in groups.items():
    heading = (f"[{titles[chapter]}]({chapter}.ipynb)" if chapter in titles
               else "Other records")
    display(Markdown(f"**{heading}** ({len(rows)} records)"))
    display(rows.set_index(["section", "record"]))

# %% [markdown]
# ## How long the book took to build

# %% tags=["remove-input"]
from pathlib import Path

timings_file = Path(results_dir) / preset / "timings.csv"
if timings_file.exists():
    timings = pd.read_csv(timings_file)
    display(Markdown(report.timings_text(timings, preset)))
    display(timings.set_index("chapter"))
else:
    display(Markdown(f"No timings recorded: `{timings_file}` does not exist "
                     "(it is written by `book/build.py`)."))

# %% [markdown]
# The `quick` preset must run the whole book, training included, in at most 15 minutes on a
# 2-core CPU without a network connection.
#
# ## The paper's abstract
#
# Quoted from the paper's record (CC BY 4.0):
#
# > **Motivation.** Gene regulation involves complex interactions between transcription
# > factors. While early attempts to predict gene expression were trained using naturally
# > occurring promoters, gigantic parallel reporter assays have vastly expanded potential
# > training data. Despite this, it is still unclear how to best use deep learning to study gene
# > regulation. Here we investigate the association between promoters and expression using
# > Camformer, a residual convolutional neural network that ranked 4th in the Random Promoter
# > DREAM Challenge 2022. We present the original model trained on 6.7 million sequences and
# > investigate 270 alternative models to find determinants of model performance. Finally, we
# > use explainable AI to uncover regulatory signals.
# >
# > **Results.** Camformer accurately decodes the association between promoters and gene
# > expression (r2=0.914±0.003, ρ=0.962±0.002) and provides a substantial improvement over
# > previous state of the art. Using Grad-CAM and in silico mutagenesis, we demonstrate that our
# > model learns both individual motifs and their hierarchy. For example, while an IME1 motif on
# > its own increases gene expression, a co-occurring UME6 motif instead strongly reduces gene
# > expression. Thus, deep learning models such as Camformer can provide detailed insights into
# > cis-regulatory logic.
# >
# > **Availability and Implementation.** Data and code are available at:
# > <https://github.com/Bornelov-lab/Camformer>.
#
# ## How to read and run this book
#
# Every chapter is a notebook. Its source is a Jupytext file `notebooks/NN_name.py` with a
# paired `notebooks/NN_name.ipynb`; the page you read is that notebook as executed by
# [papermill](https://papermill.readthedocs.io) with one *preset* for the whole book:
#
# `quick`
# : the default: a 2-core CPU, no network. Chapters use the data bundled with the package
#   (the challenge's 71,103 test sequences, 1,000 training sequences, and the paper's
#   published figure data) and train small models for minutes.
#
# `paper`
# : a GPU and the challenge's full training data (fetched once with `camformer data fetch`),
#   with the paper's training recipe.
#
# `smoke`
# : the smallest sizes, seconds per chapter, on the same code path as `quick`: for tests, such
#   as building the book twice with two sets of CPU kernels and requiring the same conclusions.
#
# Build the whole book with `make book` (or `python book/build.py --preset quick`). Run one
# chapter alone, from the repository root, with
#
# ```bash
# papermill notebooks/04_performance.ipynb out.ipynb \
#     -p preset quick -p results_dir results
# ```
#
# Chapters that use a trained model read it from `results/{preset}/model/` (the first seed of
# the book's seed ensemble; the others lie under `results/{preset}/ensemble/`), which the
# training chapter writes, so run that one first. The rocket icon at the top of each chapter opens the
# notebook on [Binder](https://mybinder.org) (the environment of `environment.yml`) or on
# [Colab](https://colab.research.google.com).
#
# Where a figure can only be made from the paper's published data on a small machine, the
# chapter says so and names the file; where the book retrains a model, it says with which
# preset.
#
# ## Where the data come from
#
# The package bundles the challenge's measured test set (71,103 sequences with their official
# subsets), Camformer's published test-set predictions, a 1,000-sequence sample of the
# training data, and the data behind the paper's figures, copied from the paper's repository
# (github.com/Bornelov-lab/Camformer) and the challenge's repository
# (github.com/de-Boer-Lab/random-promoter-dream-challenge-2022); the original data are Zenodo
# records 7395397 and 10633252 {cite}`rafi2024`. The file `camformer/resources/SOURCE.md` in
# the repository lists each file, where it comes from, its checksum, and how the variant pairs
# were rebuilt.
