"""The architecture drawing (camformer.plots.plot_models): read from the model, readable at the column."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from camformer.models import networks  # noqa: E402
from camformer.plots.plot_models import FONT_SIZE, _units, plot_architecture, plot_architectures  # noqa: E402


def _micro_table():
    return networks.architecture_table(networks.camformer_micro(5), (1, 5, 110))


def test_units_of_micro_are_read_from_the_model():
    units = _units(_micro_table())
    assert [u["shape"] for u in units] == ["5×110", "64×110", "64×110", "64×26", "64×26", "64×26", "64×26",
                                           "1,664", "128", "128", "1"]
    assert [u["residual"] for u in units] == [False, False, True, False, True, False, True, False, False, False,
                                              False]
    assert units[3]["kind"] == "pool" and units[3]["detail"] == "BN · ReLU · pool 10/4 · drop"
    assert units[1]["text"] == "Conv 5→64, k 10" and units[-1]["text"] == "Linear 128→1"


def test_one_plus_per_residual_block():
    fig, ax = plt.subplots()
    plot_architecture(_micro_table(), ax=ax, title="Micro")
    assert sum(t.get_text() == "+" for t in ax.texts) == 3
    plt.close(fig)


def test_four_models_fit_the_column_with_readable_text_that_does_not_overlap():
    tables = {name: networks.architecture_table(net, (1, net.config.in_channels, 110)) for name, net in [
        ("Original", networks.camformer_original(4)), ("Small", networks.camformer_small(4)),
        ("Mini", networks.camformer_mini(5)), ("Micro", networks.camformer_micro(5))]}
    fig = plot_architectures(tables)
    assert fig.get_size_inches()[0] <= 7.0
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    page = fig.bbox
    texts = [t for ax in fig.axes for t in ax.texts + [ax.title] if t.get_text()] + list(fig.texts)
    assert all(t.get_fontsize() >= FONT_SIZE - 1 >= 7.5 for t in texts)
    boxes = [t.get_window_extent(renderer) for t in texts]
    for box in boxes:
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1
    overlapping = [(a.get_text(), b.get_text()) for (a, ba), (b, bb) in
                   itertools.combinations(zip(texts, boxes), 2) if ba.overlaps(bb)]
    assert overlapping == []
    assert any("16,611,073 parameters" in ax.title.get_text() for ax in fig.axes)
    plt.close(fig)
