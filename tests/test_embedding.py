"""Activations by hook, and 2-D maps."""

import numpy as np
import pytest
import torch
from torch import nn

from camformer.embedding import embed_2d, pca, penultimate_activations

torch.set_num_threads(1)


def test_hook_reads_the_penultimate_and_named_layers():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv1d(4, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 8, 5), nn.Tanh(), nn.Linear(5, 1))
    model.train()
    X = torch.randn(7, 4, 10)
    A = penultimate_activations(model, X, batch_size=3, device="cpu")
    with torch.no_grad():
        expect = model[:5](X).numpy()
        conv = model[0](X).flatten(1).numpy()
    np.testing.assert_allclose(A, expect, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(penultimate_activations(model, X, "0", device="cpu"), conv, rtol=1e-6, atol=1e-6)
    assert model.training  # restored


def test_pca_recovers_points_on_a_plane():
    """Points on a 2-D plane in 10-D: the 2-D PCA map is an isometry of the plane."""
    rng = np.random.default_rng(0)
    uv = rng.normal(size=(50, 2)) * [3.0, 1.0]
    basis, _ = np.linalg.qr(rng.normal(size=(10, 2)))
    A = uv @ basis.T + rng.normal(size=10)  # an offset plane
    Y = embed_2d(A, "pca")
    d = lambda Z: np.linalg.norm(Z[:, None] - Z[None], axis=-1)  # noqa: E731
    np.testing.assert_allclose(d(Y), d(uv), atol=1e-9)
    # the first axis carries the larger variance, and scores are centred
    assert Y[:, 0].var() > Y[:, 1].var()
    np.testing.assert_allclose(Y.mean(0), 0, atol=1e-9)
    # sign convention is deterministic: flipping the data's sign flips nothing in |scores|
    np.testing.assert_allclose(np.abs(pca(-A)), np.abs(Y), atol=1e-9)


def test_tsne_separates_two_clusters():
    rng = np.random.default_rng(0)
    A = np.concatenate([rng.normal(size=(30, 8)), rng.normal(size=(30, 8)) + 8.0])
    Y = embed_2d(A, "tsne", seed=0)
    assert Y.shape == (60, 2)
    within = np.linalg.norm(Y[:30] - Y[:30].mean(0), axis=1).mean()
    between = np.linalg.norm(Y[:30].mean(0) - Y[30:].mean(0))
    assert between > 3 * within
    with pytest.raises(ValueError, match="unknown method"):
        embed_2d(A, "umap")
