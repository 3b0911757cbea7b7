"""Metrics: Pearson r², Spearman ρ and the DREAM 2022 weighted score (numpy/pandas/scipy only)."""

from __future__ import annotations

import numpy as np
from scipy import stats


def pearson_r(y: np.ndarray, yhat: np.ndarray) -> float:
    """Pearson correlation of two 1-D arrays."""
    return float(stats.pearsonr(np.asarray(y, np.float64), np.asarray(yhat, np.float64))[0])


def spearman_rho(y: np.ndarray, yhat: np.ndarray) -> float:
    """Spearman rank correlation of two 1-D arrays."""
    return float(stats.spearmanr(np.asarray(y, np.float64), np.asarray(yhat, np.float64))[0])
