"""camformer.book: the sentence a chapter prints when the paper's weights are not used."""

import pytest

from camformer.book import log_file, why_not_published
from camformer.fetch import FetchError, HashMismatchError
from camformer.published import PublishedModelError, SelfCheckError


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
