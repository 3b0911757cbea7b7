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
# Every item of the paper, in one table: the numbers of its abstract, Figures 1–8 and the
# supplementary Figures S2–S12. For each item, the chapter that reproduces it; how (copied from
# the paper's published data, recomputed from its published data or predictions, retrained here,
# or not possible here, and why); the paper's numbers beside the numbers this build of the book
# recorded; and a verdict.
#
# The verdicts are computed when the book is built, by `camformer.audit`, from the items listed in
# `book/audit.yml` and the numbers the chapters recorded (`camformer.report`). A number is
# *reproduced* when the book's lies within the paper's rounding of it (half a unit of its last
# printed digit) or the paper's lies inside the book's 95% interval; a direction (raises,
# lowers) only when the book's interval lies wholly on the paper's side of zero, so a result in
# the noise is *undecided*. An item *differs* when any of its numbers does (the table says by how
# much), is *partly reproduced* when some numbers agree and the others were not computed in this
# build, and is *not reproduced* when the book cannot or does not reproduce it, or computed none of
# its numbers. Numbers marked "not judged" come from another model or scope and are shown only for
# reference.

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

from camformer import audit, report

items = audit.load_audit("book/audit.yml")
records = report.load_records(results_dir, preset)
table = audit.audit(items, records, preset)
audit.verdict_counts(table).to_frame("items")

# %% tags=["remove-input"]
display(Markdown(
    audit.audit_summary(table)
    + f" Judged against the {len(records)} numbers this build recorded on the "
    f"`{preset}` preset."
))
titles = report.chapter_titles("notebooks")
display(Markdown(audit.audit_markdown(table, titles)))

# %% [markdown]
# The verdicts are recorded too (section `audit`), so that the test that builds the book with two
# sets of CPU kernels also requires the same verdicts from both.

# %%
facts = audit.audit_facts(table)
report.record(results_dir, preset, "audit", **facts)
