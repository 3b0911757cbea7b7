"""The book's retrained slice of the grid (camformer.training.grid.slice_plan, paper_slice): which runs,
which seeds, and that the quick preset's work stays within the book's budget."""

import pytest

from camformer.training.grid import load_scoreboards, paper_slice, slice_plan
from camformer.training.presets import PAPER_SEEDS

# Chapter 07 may take about 350 s on a 2-core AVX2 CPU (the rest of the quick book about 500 s
# there, within its 15 minutes), where 8 runs of 12,000 sequences x 1 epoch (and 3,000 evaluated)
# took 180 s: at most 8 * (12,000 + 3,000 / 3) * 350 / 180 sequence-steps.
QUICK_BUDGET = 8 * (12_000 + 3_000 / 3) * 350 / 180


def test_slice_plan_quick_is_a_paired_two_by_two_within_budget():
    plan = slice_plan("quick")
    assert sorted((g.optimizer, g.loss) for g in plan.runs) == [
        ("AdamW", "L1"), ("AdamW", "MSE"), ("Lion", "L1"), ("Lion", "MSE")]
    assert {(g.size, g.encoding, g.scheduler) for g in plan.runs} == {("Mini", "onehotWithP", "None")}
    assert plan.seeds == PAPER_SEEDS[:10] and plan.architecture == "micro"
    assert (plan.base.scheduler, plan.base.lr, plan.base.amp) == ("None", 1e-3, "off")
    base = plan.base
    per_run = base.max_epochs * (base.steps_per_epoch * base.batch_size if base.steps_per_epoch
                                 else base.train_size)
    # evaluation (forward only, about a third of a training step): validation after each epoch, test once
    per_run += (base.max_epochs * base.val_size + base.test_size) / 3
    assert len(plan.runs) * len(plan.seeds) * per_run <= QUICK_BUDGET * 1.1


def test_slice_plan_other_presets():
    paper = slice_plan("paper")
    assert paper.architecture is None and paper.base.dataset == "dream_train" and len(paper.seeds) >= 3
    smoke = slice_plan("smoke")
    assert smoke.base.train_size <= 1_024 and len(smoke.seeds) == 2
    with pytest.raises(ValueError, match="unknown preset"):
        slice_plan("huge")


def test_paper_slice_is_the_same_four_runs_on_the_scoreboard():
    plan = slice_plan("quick")
    rows = paper_slice(load_scoreboards(), plan)
    assert sorted(rows["RunID"]) == sorted(g.id for g in plan.runs) == [217, 220, 223, 226]
    assert {"optimizer", "loss", "r", "rho"} <= set(rows.columns)
    best = rows.groupby("optimizer")["r"].mean()
    assert best["AdamW"] > best["Lion"]  # the paper's slice: AdamW first
