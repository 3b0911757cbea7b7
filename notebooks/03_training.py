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
# # Training
#
# The paper trains every model with one recipe: AdamW (learning rate 10⁻³, weight decay 10⁻³),
# batches of 256, up to 50 epochs with early stopping when the validation Pearson r plus
# Spearman ρ has not improved for 10 epochs, and He initialisation; the seed ensemble repeats
# it with the seeds 42, 23, 47, 56, 89, 12, 34, 78, 67 and 98. `camformer.train.train` is that
# recipe as one function. It keeps the sequences as `uint8` codes until they reach the device,
# one-hot encodes each batch there, uses bf16 autocast where the hardware has it, writes a
# checkpoint every epoch (so a killed run continues where it stopped), and runs on several GPUs
# or hosts with `torchrun`.
#
# On the `quick` preset this chapter trains the book's own model on a 2-core CPU: **Camformer
# Micro**, the Original's blocks (six convolutions of kernel 10 in residual pairs) at 64
# channels with the max-pool in block 3, 438,913 parameters (the architecture chapter shows it
# beside Original and Mini, and why not Mini). There is no training file on such a machine, so it learns from the
# **measured test library** (71,103 sequences with measured expression), split 80/10/10 by
# variant family so that no sequence and its SNV or motif variants fall on both sides of the
# split. **This is a small-data demonstration: its held-out r and ρ are not comparable to the
# challenge's leaderboard**, where models trained on 6.7 million sequences are scored on this
# very library.
#
# The quick preset is a fixed amount of work: all 56,863 training sequences for three epochs
# (AdamW, OneCycleLR peaking at 3·10⁻³, MSE), seeded, in float32 on every CPU. Nothing is cut off by the clock, and
# no bf16 is used even where the CPU has it, so the numbers on this page are the same on every
# build and on every machine; only the seconds differ.

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
import shutil
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from camformer import models, report
from camformer.book import save_book_model
from camformer.presets import PAPER_SEEDS, paper_data, quick_data, run_preset
from camformer.train import TrainConfig

out_dir = Path(results_dir) / preset
run_dir = out_dir / "run"
config = TrainConfig.preset(preset, progress=False)  # no progress bars in the book
pd.Series(config.to_dict(), name=preset).to_frame()

# %% [markdown]
# ## The model sizes
#
# The grid of the paper trains three sizes. Original (the grid's Large) and Mini are the
# published networks; Small is a reconstruction matched on the published parameter counts (see
# the architecture chapter). Micro is this book's CPU model. The last column counts the
# multiply-accumulates of one forward pass per sequence: what a CPU pays per sequence and epoch.

# %%
sizes = pd.DataFrame([
    {"model": name, "encoding": encoding, "parameters": models.count_parameters(net),
     "MACs per sequence": models.count_macs(net, (1, net.config.in_channels, 110))}
    for name, encoding, net in [
        ("Original (Large)", "onehot", models.camformer_original(4)),
        ("Small", "onehot", models.camformer_small(4)),
        ("Mini", "onehotWithP", models.camformer_mini(5)),
        ("Micro (this book)", "onehotWithP", models.camformer_micro(5)),
    ]
])
sizes

# %% [markdown]
# ## Training run
#
# The `quick` preset starts from scratch every time the book is built (a previous run's
# directory is removed), so the numbers below come from this run. The `paper` preset resumes
# from its run directory if a checkpoint is there.

# %%
if preset == "paper":
    if not train_file:
        from camformer import fetch

        train_file = fetch.fetch_file(fetch.TRAIN_FILE)
    data = paper_data(train_file, run_dir, seed=config.seed, progress=True)
else:
    shutil.rmtree(run_dir, ignore_errors=True)
    data = quick_data(config.train_size, config.val_size, config.test_size, seed=config.seed)  # the whole split
pd.DataFrame({name: {"sequences": len(split)} for name, split in data.items()})

# %%
start = time.perf_counter()
result = run_preset(config, run_dir, data=data)
seconds = time.perf_counter() - start
history = result.history
history.to_csv(out_dir / "training_history.csv", index=False)
history

# %% [markdown]
# ## Learning curves
#
# The loss on the training batches and on the validation split, and the validation r and ρ
# that early stopping watches, per epoch.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
axes[0].plot(history["epoch"], history["train_loss"], "o-", label="training")
axes[0].plot(history["epoch"], history["val_loss"], "o-", label="validation")
axes[0].set(xlabel="epoch", ylabel=f"{config.loss} loss", title="Loss")
axes[0].legend()
axes[1].plot(history["epoch"], history["val_pearson"], "o-", label="Pearson r")
axes[1].plot(history["epoch"], history["val_spearman"], "o-", label="Spearman ρ")
axes[1].set(xlabel="epoch", ylabel="validation correlation", title="Validation")
axes[1].legend()
if preset != "paper":
    fig.suptitle("Small-data demonstration (measured test library; not comparable to the leaderboard)", fontsize=9)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Held-out predictions
#
# The best epoch's model predicts the held-out split: families of sequences it never saw in
# training or validation.

# %%
test = data["test"]
predictions = pd.DataFrame({"id": test.ids, "prediction": result.test_predictions})
save_book_model(result.model, predictions, results_dir, preset, dataset=config.dataset,
                split={name: split.ids for name, split in data.items()})
r, rho = result.metrics["test_pearson"], result.metrics["test_spearman"]

fig, ax = plt.subplots(figsize=(4.5, 4.5))
ax.scatter(test.targets, result.test_predictions, s=3, alpha=0.3)
ax.set(xlabel="measured expression", ylabel="predicted expression",
       title=f"Held-out split: r = {r:.3f}, ρ = {rho:.3f}")
plt.tight_layout()
plt.show()

# %%
record_path = report.record(results_dir, preset, "training", model=config.model,
                            parameters=models.count_parameters(result.model), heldout_pearson=r,
                            heldout_spearman=rho, n_train=len(data["train"]), n_heldout=len(test), epochs=len(history),
                            best_epoch=result.metrics["best_epoch"], dtype="float32" if config.amp == "off" else config.amp,
                            seconds=round(seconds, 1))
kind = ("a small-data demonstration on the measured test library, not comparable to the leaderboard"
        if preset != "paper" else "the challenge's training file, split 90/5/5")
display(Markdown(
    f"Trained on {len(data['train']):,} sequences ({kind}) for {len(history)} epochs; "
    f"the best epoch was {result.metrics['best_epoch']}. On the {len(test):,} held-out sequences the model "
    f"reaches Pearson r = {r:.3f} and Spearman ρ = {rho:.3f}. Training took {seconds:.0f} s on the machine "
    f"that built this page (the only number here that depends on the machine). The model is saved in "
    f"`{out_dir / 'model'}` with its encoding and split ids, and its held-out predictions in "
    f"`{out_dir / 'predictions_heldout.tsv'}`; later chapters load them."
))

# %% [markdown]
# ## The paper preset on a GPU
#
# The full recipe trains on the challenge's 6.7 million sequences. Fetch the training file
# once, then train; under `torchrun` the same command uses several GPUs (or hosts) with
# distributed data parallelism, and a killed run restarted with the same command continues
# from its last epoch:
#
# ```bash
# camformer data fetch
# camformer train --preset paper --train-file PATH/TO/train_sequences.txt --run-dir runs/paper-seed42
# torchrun --nproc_per_node=4 --no-python camformer train --preset paper \
#     --train-file PATH/TO/train_sequences.txt --run-dir runs/paper-seed42
# ```
#
# The seed ensemble repeats this with `--seed` set to each of the paper's ten seeds; the book
# runs this chapter with `preset = "paper"` to do the first of them.

# %%
display(Markdown("The paper's ten seeds: " + ", ".join(str(s) for s in PAPER_SEEDS) + "."))
