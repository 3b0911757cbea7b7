"""camformer.records.book: the sentence a chapter prints when the paper's weights are not used."""

import pytest

from camformer.records.book import chapter_start, log_file, why_not_published
from camformer.data.fetch import FetchError, HashMismatchError
from camformer.paper.published import PublishedModelError, SelfCheckError


@pytest.mark.parametrize("error, words", [
    (FetchError("HTTPConnectionPool(host='www.sblab.uk'): Max retries (Caused by NameResolutionError"),
     "They could not be downloaded"),
    (HashMismatchError("w.tar.gz", "http://x", "abc", "def", "pinned"), "did not match their pinned checksum"),
    (SelfCheckError("max |diff| 0.3 > 0.001"), "did not reproduce the authors' published predictions"),
    (PublishedModelError("no model member"), "could not be read as a Camformer model"),
    (MemoryError(), "loading them failed (MemoryError)"),
])
def test_one_plain_sentence_and_the_details_in_a_log(tmp_path, error, words):
    log = log_file(tmp_path, "quick", "published_weights.log")
    sentence = why_not_published(error, log)
    assert words.lower() in sentence.lower() and sentence.endswith(".") and sentence[0].isupper()
    assert "Caused by" not in sentence and (not str(error) or str(error) not in sentence)
    assert type(error).__name__ in log.read_text() and str(error) in log.read_text()
    assert str(log) in sentence
    assert why_not_published(error) == sentence.split(";")[0] + "."


@pytest.mark.parametrize("preset, n_boot, smoke, expected", [
    ("quick", 1000, 50, 1000), ("paper", 1000, 50, 1000), ("smoke", 1000, 50, 50),
    ("smoke", 10000, 200, 200), ("smoke", 20, 50, 20),  # never more on smoke than asked for
])
def test_a_chapter_draws_fewer_resamples_only_on_smoke(preset, n_boot, smoke, expected):
    import matplotlib.pyplot as plt

    with plt.rc_context():
        assert chapter_start(preset, n_boot, smoke_n_boot=smoke, dpi=97) == expected
        assert plt.rcParams["figure.dpi"] == 97


@pytest.mark.parametrize("kwargs, name", [
    ({"n_boot": 0}, "n_boot"), ({"n_boot": 1.5}, "n_boot"), ({"n_boot": True}, "n_boot"),
    ({"n_boot": 10, "smoke_n_boot": 0}, "smoke_n_boot"), ({"n_boot": 10, "dpi": -1}, "dpi"),
])
def test_a_bad_chapter_parameter_is_refused_before_anything_changes(kwargs, name):
    import matplotlib.pyplot as plt

    with plt.rc_context():
        before = plt.rcParams["figure.dpi"]
        with pytest.raises(ValueError, match=f"^{name} must be a whole number of at least 1"):
            chapter_start("quick", **kwargs)
        assert plt.rcParams["figure.dpi"] == before
