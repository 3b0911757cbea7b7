"""captum attributions: known answers on a linear model."""

import pytest
import torch
from torch import nn

from camformer.attribution import attribute

torch.set_num_threads(1)


@pytest.fixture
def linear():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4 * 9, 1))
    w = model[1].weight.detach().view(4, 9)
    X = torch.randn(5, 4, 9)
    return model, w, X


def test_integrated_gradients_of_a_linear_model_is_x_times_w(linear):
    model, w, X = linear
    got = attribute(model, X, "integrated_gradients", n_steps=8, device="cpu")
    torch.testing.assert_close(got, X * w, atol=1e-5, rtol=1e-5)
    base = torch.full((4, 9), 0.25)
    got = attribute(model, X, "integrated_gradients", baseline=base, batch_size=2, device="cpu")
    torch.testing.assert_close(got, (X - base) * w, atol=1e-5, rtol=1e-5)


def test_deeplift_and_saliency_of_a_linear_model(linear):
    model, w, X = linear
    torch.testing.assert_close(attribute(model, X, "deeplift", device="cpu"), X * w, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(attribute(model, X, "saliency", device="cpu"), w.abs().expand_as(X), atol=1e-6, rtol=0)
    torch.testing.assert_close(attribute(model, X, "saliency", abs=False, device="cpu"), w.expand_as(X), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="unknown method"):
        attribute(model, X, "shap")
