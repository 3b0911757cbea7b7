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
# # Reproduction audit
#
# Every item of the paper: the numbers of its abstract, Figures 1–8 and the supplementary Figures
# S2–S12. For each item, the chapter that reproduces it; how (copied from the paper's published
# data, recomputed from its published data or predictions, retrained here, or not possible here,
# and why); and a verdict, computed when the book is built by `camformer.records.audit` from the items
# listed in `book/audit.yml` and the numbers the chapters recorded (`camformer.records.report`). The first
# table gives one line per item; below it, each item opens to show its numbers, the paper's beside
# this build's, and why it got its verdict.
#
# How a number is judged depends on where it comes from. A number **copied** or **recomputed**
# from the paper's own published data or predictions must equal the paper's number at the
# paper's rounding (0.9564 matches "0.956"; 0.955 differs). A number of a model **retrained**
# here has noise of its own, so it also matches when the paper's number lies inside the book's
# 95% interval. A direction (raises, lowers) matches only when the book's interval lies wholly on
# the paper's side of zero. A result in the noise, and any result its chapter calls undecided, is
# *undecided*: neither reproduced nor different.
#
# An item *differs* when any of its numbers does (its details say by how much), is *undecided*
# when one is undecided and none differs, *partly reproduced* when some numbers agree and the
# others were not computed in this build, and *not reproduced* when the book cannot or does not
# reproduce it, or computed none of its numbers. Numbers marked "not judged" come from another
# model or scope and are shown only for reference.

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

# %%
from IPython.display import Markdown, display

from camformer.records import audit, report

items = audit.load_audit("book/audit.yml")
records = report.load_records(results_dir, preset)
table = audit.audit(items, records, preset)
audit.verdict_counts(table).to_frame("items")

# %% tags=["remove-input"]
display(Markdown(
    audit.audit_summary(table)
    + f" Judged against the {len(records)} numbers this build recorded on the "
    f"`{preset}` preset. " + audit.unrecorded_text(table)
))
titles = report.chapter_titles("notebooks")
display(Markdown(audit.audit_markdown(table, titles)))

# %% [markdown]
# ## The numbers of each item
#
# Open an item to see what it shows, how the book reproduces it, and each of its numbers: the
# paper's, this build's (with its 95% interval in brackets where it has one), and the comparison's
# outcome.

# %% tags=["remove-input"]
display(Markdown(audit.audit_details(table, titles)))

# %% [markdown]
# The verdicts are recorded too (section `audit`), so that the test that builds the book with two
# sets of CPU kernels also requires the same verdicts from both.

# %%
facts = audit.audit_facts(table)
report.record(results_dir, preset, "audit", **facts)
