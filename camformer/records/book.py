"""The book's plumbing: the models its training chapter saves, and the models each chapter explains.

The training chapter (``notebooks/03_training``) trains a seed ensemble (k models of one recipe
that differ only in their seed) and saves it with :func:`save_book_ensemble`: each model's
weights, encoding, the dataset it was trained on and its split ids (so that only held-out
sequences are ever scored or explained), and its held-out predictions. The interpretation
chapters ask :func:`explained_models` for the models to explain: the paper's own published model
where it can be fetched and passes its self-check (:mod:`camformer.paper.published`), else the book's
ensemble, whose conclusions hold only where every model reaches them (:mod:`camformer.stats.ensemble`);
the returned ``info`` says which.

A published archive that was downloaded but *refused* (it did not match its pinned checksum, could
not be read as the model, or did not reproduce the published predictions) is a defect, not an
offline build: :func:`explained_models` then warns (:class:`PublishedRefusedWarning`), appends the
reason to ``logs/published_refused.log`` (which ``book/build.py`` prints as a warning), and
:func:`describe_model` puts a warning box on the page.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence, TypeVar

import numpy as np
import pandas as pd
from torch import nn

R = TypeVar("R")

HELDOUT_PREDICTIONS = "predictions_heldout.tsv"
REFUSED_LOG = "published_refused.log"  # under logs/: one line per refusal, read by book/build.py


class PublishedRefusedWarning(UserWarning):
    """The paper's archive was downloaded but refused, so a chapter explains the book's model instead."""


def book_model_dir(results_dir: str | Path, preset: str) -> Path:
    """``{results_dir}/{preset}``: where the training chapter saves the book's model."""
    return Path(results_dir) / preset


def chapter_start(preset: str, n_boot: int, *, smoke_n_boot: int = 50, dpi: int = 120) -> int:
    """Start a chapter: its figures drawn at ``dpi``, and the number of bootstrap resamples it draws.

    On the ``smoke`` preset, which runs only the code path, the chapter draws ``smoke_n_boot``
    resamples (or ``n_boot`` where that is fewer); on every other preset ``n_boot``.

    Parameters
    ----------
    preset : str
        The chapter's preset (``smoke``, ``quick``, ``paper``, ...).
    n_boot : int
        The chapter's ``n_boot`` parameter, at least 1.
    smoke_n_boot : int
        The resamples on ``smoke``, at least 1.
    dpi : int
        Matplotlib's ``figure.dpi`` for the chapter's figures, at least 1.

    Returns
    -------
    int
        The number of resamples the chapter draws.
    """
    for name, value in (("n_boot", n_boot), ("smoke_n_boot", smoke_n_boot), ("dpi", dpi)):
        _check_count(name, value)
    _draw_at(dpi)
    return min(n_boot, smoke_n_boot) if preset == "smoke" else n_boot


def _check_count(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")


def _draw_at(dpi: int) -> None:
    """Every chapter's figures at one resolution (Matplotlib's ``figure.dpi``)."""
    import matplotlib.pyplot as plt

    plt.rcParams["figure.dpi"] = dpi


def save_book_model(model: nn.Module, predictions: pd.DataFrame, results_dir: str | Path, preset: str, *,
                    dataset: str, split: dict[str, np.ndarray], encoding: str | None = None) -> Path:
    """Save the model the book's training chapter trained and its held-out predictions.

    Writes ``{results_dir}/{preset}/model/`` (:func:`camformer.models.networks.save_model`, with the
    encoding, the dataset and the split ids) and ``{results_dir}/{preset}/predictions_heldout.tsv``
    (columns ``id, prediction``); returns ``{results_dir}/{preset}``.

    Parameters
    ----------
    dataset : {"dream_train", "test_library"}
        What the model was trained on.
    split : dict name -> id array
        Its ``train``, ``val`` and ``test`` ids.
    encoding : str, optional
        Default: the model's ``encoding`` attribute (set by :func:`camformer.training.train.train`).
    """
    from camformer.models.networks import save_model

    out = book_model_dir(results_dir, preset)
    out.mkdir(parents=True, exist_ok=True)
    predictions[["id", "prediction"]].to_csv(out / HELDOUT_PREDICTIONS, sep="\t", index=False)
    save_model(model, out / "model", encoding=encoding, dataset=dataset, split=split)
    return out


def load_book_model(results_dir: str | Path, preset: str) -> tuple[nn.Module, pd.DataFrame]:
    """The model saved by :func:`save_book_model` (in eval mode, with its ``encoding``) and its
    held-out predictions (columns ``id, prediction``).

    Raises
    ------
    FileNotFoundError
        Naming the missing file, and saying to run the training chapter (``03_training``)
        first with the same preset and results directory.
    """
    from camformer.models.networks import load_model

    out = book_model_dir(results_dir, preset)
    for path in (out / "model" / "config.json", out / HELDOUT_PREDICTIONS):
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing; run chapter 03_training first "
                                    f"(with preset={preset!r} and results_dir={str(results_dir)!r})")
    return load_model(out / "model"), pd.read_csv(out / HELDOUT_PREDICTIONS, sep="\t")


# Models of the training chapter's seed ensemble, per preset (others: 1). Three fit the quick book's
# 15 minutes on 2 AVX2 cores (benchmarks/RESULTS.md); the paper preset trains one on a GPU.
ENSEMBLE_SIZES = {"smoke": 3, "quick": 3}
ENSEMBLE_FILE = "ensemble.json"  # in the book's model folder: the seeds and threads of its seed ensemble
ENSEMBLE_DIR = "ensemble"  # the members after the first: {book_model_dir}/ensemble/seed_{seed}/


def ensemble_seeds(preset: str, n: int = 0) -> tuple[int, ...]:
    """The seeds of the training chapter's ensemble: the first ``n`` of the paper's ten
    (:data:`camformer.training.presets.PAPER_SEEDS`; ``n = 0``: the preset's :data:`ENSEMBLE_SIZES`, else 1).

    >>> ensemble_seeds("quick"), ensemble_seeds("paper"), ensemble_seeds("quick", 5)
    ((42, 23, 47), (42,), (42, 23, 47, 56, 89))
    """
    from camformer.training.presets import PAPER_SEEDS

    n = n or ENSEMBLE_SIZES.get(preset, 1)
    if not 1 <= n <= len(PAPER_SEEDS):
        raise ValueError(f"n_models = {n}: the ensemble takes 1 to {len(PAPER_SEEDS)} of the paper's seeds")
    return PAPER_SEEDS[:n]


def save_book_ensemble(members: Sequence[tuple[int, nn.Module, pd.DataFrame]], results_dir: str | Path,
                       preset: str, *, dataset: str, split: dict[str, np.ndarray], threads: int,
                       encoding: str | None = None) -> Path:
    """Save the training chapter's seed ensemble: k models of one recipe that differ in their seed.

    The first member is the book's model (:func:`save_book_model`, in ``{results_dir}/{preset}``,
    which ``camformer predict --model results/PRESET`` takes); member ``i > 0`` goes to
    ``{results_dir}/{preset}/ensemble/seed_{seed}/`` in the same layout; ``ensemble.json`` lists
    the seeds in order and the torch threads each trained with.

    Parameters
    ----------
    members : sequence of (seed, model, predictions)
        ``predictions``: the model's held-out predictions, columns ``id, prediction``.
    threads : int
        torch threads per run (a run's bits depend on it, so it is recorded).
    """
    if not members:
        raise ValueError("no models to save")
    seeds = [int(seed) for seed, _, _ in members]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds {seeds}: each member of a seed ensemble needs its own seed")
    out = book_model_dir(results_dir, preset)
    shutil.rmtree(out / ENSEMBLE_DIR, ignore_errors=True)  # no member of an earlier, larger ensemble is left
    for i, (seed, model, predictions) in enumerate(members):
        where = (results_dir, preset) if i == 0 else (out / ENSEMBLE_DIR, f"seed_{seed}")
        save_book_model(model, predictions, *where, dataset=dataset, split=split, encoding=encoding)
    (out / ENSEMBLE_FILE).write_text(json.dumps({"seeds": seeds, "threads": int(threads)}, indent=1))
    return out


def load_book_ensemble(results_dir: str | Path, preset: str) -> list[tuple[str, nn.Module, pd.DataFrame]]:
    """The models saved by :func:`save_book_ensemble`, in order: ``(label, model, predictions)``
    with labels ``"seed 42"``, ...; a book model saved alone (:func:`save_book_model`) is an
    ensemble of one, labelled ``"the book's model"``.

    Raises
    ------
    FileNotFoundError
        Naming the missing file, and saying to run the training chapter first.
    """
    out = book_model_dir(results_dir, preset)
    first = load_book_model(results_dir, preset)
    if not (out / ENSEMBLE_FILE).exists():
        return [("the book's model", *first)]
    seeds = json.loads((out / ENSEMBLE_FILE).read_text())["seeds"]
    members = [(f"seed {seeds[0]}", *first)]
    for seed in seeds[1:]:
        members.append((f"seed {seed}", *load_book_model(out / ENSEMBLE_DIR, f"seed_{seed}")))
    return members


def explained_models(
    results_dir: str | os.PathLike,
    preset: str,
    *,
    prefer: str = "original",
    check_n: int | None = 512,
    cache_dir: str | os.PathLike | None = None,
    url: str | None = None,
    timeout: float | tuple[float, float] = (5.0, 30.0),
) -> tuple[list[nn.Module], dict]:
    """The models a chapter explains: the paper's, where it can be fetched and passes
    :func:`camformer.paper.published.self_check` (one fixed model); else the book's seed ensemble
    (:func:`load_book_ensemble`), whose conclusions a chapter states only where every model
    reaches them (:mod:`camformer.stats.ensemble`).

    Parameters
    ----------
    results_dir, preset
        Where the training chapter saved the book's models, and its preset.
    prefer : {"original", "mini", "book"}
        Which published model to try ("book": do not try).
    check_n : int or None
        Test sequences the self-check compares (None: all 71,103; slow on a CPU for Original).
    cache_dir, url, timeout
        As for :func:`camformer.paper.published.load_published`; the timeout keeps an offline build from waiting.
        ``$CAMFORMER_OFFLINE=1`` skips the download (a cached tarball is still used).

    Returns
    -------
    (list of nn.Module, dict)
        The models in eval mode, and ``info``: ``model`` (e.g. ``"Camformer Original (published,
        seed 42)"`` or ``"the book's seed ensemble (quick preset, 4 models)"``), ``labels`` (one
        name per model, e.g. ``"seed 42"``), ``published`` (bool), ``source`` (the download URL and
        cached file, or the models' folder), ``self_check`` (the
        :func:`camformer.paper.published.self_check` result, or None), ``reason`` (why the book's
        models are used, or None), ``refused`` (True where the published archive was downloaded
        but refused: a defect), ``predictions`` (held-out predictions, columns ``id, prediction``
        and, for an ensemble, one more column per model label; ``prediction`` is the first
        model's: the authors' published test-set predictions, or the book's first model's on
        its held-out ids).

    Raises
    ------
    FileNotFoundError
        Neither model is available (the message says why the published one is not).
    """
    from camformer.data import fetch
    from camformer.data.dream import load_published_predictions
    from camformer.paper.published import OFFLINE_ENV, load_published, offline, published_model, self_check, weights_url

    refused = False
    if prefer != "book":
        spec = published_model(prefer)
        cached = fetch.local_path(spec.file, cache_dir)
        if offline() and not cached.exists():
            reason = f"`{OFFLINE_ENV}=1` is set and they are not cached (`{cached}`), so they were not downloaded."
        else:
            try:
                model = load_published(prefer, cache_dir=cache_dir, url=url, progressbar=False, timeout=timeout)
                check = self_check(model, prefer, n=check_n)
            except Exception as err:  # noqa: BLE001 (any failure means: say why, use the book's model)
                reason = why_not_published(err, log_file(results_dir, preset, "published_weights.log"))
                refused = is_refusal(err)
                if refused:
                    message = f"{spec.title} was refused, so the book's models are explained instead: {reason}"
                    warnings.warn(message, PublishedRefusedWarning, stacklevel=2)
                    with open(log_file(results_dir, preset, REFUSED_LOG), "a", encoding="utf-8") as log:
                        log.write(message + "\n")
            else:
                table = load_published_predictions()[["id", spec.name]]
                return [model], {
                    "model": spec.title, "labels": [spec.title], "published": True,
                    "source": f"{weights_url(prefer, url)} (cached as {cached})",
                    "self_check": check, "reason": None, "refused": False,
                    "predictions": table.rename(columns={spec.name: "prediction"}),
                }
    else:
        reason = "The book's own models were asked for (`prefer='book'`)."
    try:
        members = load_book_ensemble(results_dir, preset)
    except FileNotFoundError as err:
        raise FileNotFoundError(f"{err}; and the published model is not available: {reason}") from None
    labels = [label for label, _, _ in members]
    predictions = members[0][2][["id", "prediction"]]
    if len(members) > 1:
        for label, _, table in members:
            predictions = predictions.merge(table.rename(columns={"prediction": label}), on="id", validate="1:1")
    what = (f"the book's model ({preset} preset)" if len(members) == 1
            else f"the book's seed ensemble ({preset} preset, {len(members)} models)")
    return [model for _, model, _ in members], {
        "model": what, "labels": labels, "published": False,
        "source": str(Path(results_dir) / preset / "model"), "self_check": None, "reason": reason,
        "refused": refused, "predictions": predictions,
    }


def log_file(results_dir: str | os.PathLike, preset: str, name: str) -> Path:
    """``{results_dir}/{preset}/logs/{name}``: where the book keeps details a page only summarises."""
    return Path(results_dir) / preset / "logs" / name


def is_refusal(error: BaseException) -> bool:
    """True where the paper's archive was there but refused (checksum, archive or pickle contents,
    self-check); False where it could not be had (offline, no connection), the usual fallback."""
    from camformer.data.fetch import FetchError, HashMismatchError

    return isinstance(error, HashMismatchError) or not isinstance(error, FetchError)


def why_not_published(error: BaseException, log: Path | None = None) -> str:
    """One plain sentence saying why the paper's weights are not used, for the page; the full error
    (type, message, traceback) goes to ``log`` if given, and the sentence says where."""
    from camformer.data.fetch import FetchError, HashMismatchError
    from camformer.paper.published import PublishedModelError, SelfCheckError

    if isinstance(error, HashMismatchError):
        sentence = "the downloaded weights did not match their pinned checksum"
    elif isinstance(error, FetchError):
        sentence = "they could not be downloaded (no connection to the authors' server)"
    elif isinstance(error, SelfCheckError):
        sentence = "the loaded model did not reproduce the authors' published predictions"
    elif isinstance(error, PublishedModelError):
        sentence = "the downloaded archive could not be read as a Camformer model"
    else:
        sentence = f"loading them failed ({type(error).__name__})"
    if log is not None:
        import traceback

        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("".join(traceback.format_exception(type(error), error, error.__traceback__)))
        sentence += f"; details in `{log}`"
    return sentence[0].upper() + sentence[1:] + "."


def describe_model(info: dict) -> str:
    """One Markdown sentence for a chapter's first lines: which model it explains, and why.

    ``info`` as returned by :func:`explained_models`.
    """
    if info["published"]:
        from camformer.data.dream import stand_in_predictions

        check = info["self_check"]
        sentence = (f"**This chapter explains {info['model']}**, the paper's own trained weights ({info['source']}), "
                    f"loaded without running any pickled code; on {check['n']:,} test sequences its predictions "
                    f"match the authors' published ones to {check['max_abs_diff']:.1e} (tolerance "
                    f"{check['tolerance']:g}).")
        stand_in = stand_in_predictions()
        if stand_in is not None:
            return (":::{warning}\n**A rehearsal, not the paper's model.** The archive explained here stands in "
                    f"for the paper's: it was checked against `{stand_in}` (`$CAMFORMER_STAND_IN_PREDICTIONS`), "
                    "not against the authors' published predictions. Every number below comes from the stand-in "
                    "archive or from that file, never from the paper's model.\n:::\n\n" + sentence)
        return sentence
    labels = info.get("labels", [])
    if len(labels) > 1:
        sentence = (f"**This chapter explains {info['model']}**: {len(labels)} models of one recipe, differing only in "
                    f"their seed ({', '.join(labels)}), trained in chapter 03_training (`{info['source']}` and "
                    f"beside it), on promoters they did not train on. Every model is asked each question on its "
                    f"own; a conclusion is stated only where all {len(labels)} reach it, and numbers are the mean "
                    f"over the models with a 95% interval between models. The paper's own weights are not used "
                    f"here. {info['reason']}")
    else:
        sentence = (f"**This chapter explains {info['model']}**, trained in chapter 03_training (`{info['source']}`), "
                    f"on promoters it did not train on. The paper's own weights are not used here. {info['reason']}")
    if info.get("refused"):
        return (":::{warning}\n**The paper's published weights were refused.** They were downloaded, but "
                f"{info['reason'][0].lower() + info['reason'][1:]} This is a defect of this build or of the "
                "download, not an offline build: please report it. This page explains the book's own model "
                "instead.\n:::\n\n" + sentence)
    return sentence


def heldout_sample(info: dict, n: int | None, seed: int = 0) -> pd.DataFrame:
    """A seeded sample of the sequences a chapter's model never trained on, in id order.

    Parameters
    ----------
    info : dict from :func:`explained_models` (its ``predictions``: ids and the models' predictions)
    n : int or None
        Sample size (all of them if there are fewer; None: all of them).
    seed : int

    Returns
    -------
    pandas.DataFrame with columns ``id, seq, expression, prediction`` (measured expression from
    the bundled test table) and, for an ensemble, one more prediction column per model label
    """
    from camformer.data.dream import load_test_table

    predictions = info["predictions"].set_index("id")
    size = len(predictions) if n is None else min(n, len(predictions))
    ids = np.sort(np.random.default_rng(seed).choice(predictions.index.to_numpy(), size=size, replace=False))
    table = load_test_table().set_index("id").loc[ids, ["seq", "expression"]]
    return table.join(predictions.loc[ids]).reset_index()


def _ask_model(job: tuple[nn.Module, dict], shared: tuple[Callable, tuple, dict]):
    """One worker job of :meth:`Explaining.each_model`: ``fn(model, *args, **kwargs, **own)``."""
    model, own = job
    fn, args, kwargs = shared
    return fn(model, *args, **kwargs, **own)


@dataclass(frozen=True)
class Explaining:
    """What an interpretation chapter starts from (:func:`explaining`).

    Attributes
    ----------
    models : list of nn.Module
        In eval mode: the paper's published model, or the book's seed ensemble.
    info : dict
        :func:`explained_models`' ``info`` (``labels``: one name per model).
    sample : pandas.DataFrame
        :func:`heldout_sample`: ``id, seq, expression, prediction`` (and one prediction column
        per model of an ensemble), in id order.
    units : np.ndarray
        ``(N,)`` the sample's similarity units (:func:`camformer.stats.bootstrap.test_set_units`).
    boot : dict
        ``groups``, ``n_boot`` and ``seed``: the keyword arguments of every bootstrap interval
        over the sample's promoters.
    codes : np.ndarray
        ``(N, 110)`` int8 base codes of the sample (:func:`camformer.data.dream.encode_sequences`).
    threads : int
        torch threads the chapter runs with (the CPU budget).
    asked : int
        The sample size asked for; the sample is smaller where the models' cost
        (:func:`affordable_n`) or the held-out set limits it (0: not recorded).
    one_model_n : int or None
        The sample size one model gets (:func:`explaining`'s ``n``); ``asked`` is smaller where
        several models each get ``ensemble_n``.
    macs_budget : float or None
        :func:`affordable_n`'s cost budget, where one was set.
    """

    models: list
    info: dict
    sample: pd.DataFrame
    units: np.ndarray
    boot: dict
    codes: np.ndarray
    threads: int
    asked: int = 0
    one_model_n: int | None = None
    macs_budget: float | None = None

    @property
    def labels(self) -> list[str]:
        return self.info["labels"]

    @property
    def measured(self) -> np.ndarray:
        """``(N,)`` the sample's measured expression."""
        return self.sample["expression"].to_numpy()

    def predicted(self, label: str) -> np.ndarray:
        """``(N,)`` one model's predictions of the sample: its own column where several models are
        explained, else ``prediction``."""
        return self.sample.get(label, self.sample["prediction"]).to_numpy()

    def markdown(self) -> str:
        """:func:`describe_model`'s sentence, for the chapter's first lines."""
        return describe_model(self.info)

    def each_model(self, fn: Callable[..., R], *args, per_model: Sequence[Mapping] | None = None,
                   **kwargs) -> list[R]:
        """Ask every model the chapter's questions:
        ``[fn(model, *args, **kwargs, **per_model[i]) for i, model in enumerate(self.models)]``.

        Several models (the book's seed ensemble) are asked side by side in one-thread worker
        processes, as many at once as the CPU budget holds
        (:func:`camformer.training.workers.map_in_workers`), as chapter 03 trains them: two
        threads of one process wait on each other after every operation, so a core busy with
        something else stalled the chapters (benchmarks/RESULTS.md); and a model's numbers do not
        depend on how many cores the machine has. One model (the paper's published one) is asked
        in this process, on :attr:`threads` threads.

        Parameters
        ----------
        fn : callable
            ``fn(model, ...)``, a module-level function (a worker imports it by name), e.g.
            :func:`camformer.explain.ism.findings`.
        per_model : sequence of mapping, optional
            One mapping of keyword arguments per model (e.g. each model's own predictions).

        Returns
        -------
        list
            ``fn``'s results, in the order of :attr:`models`.
        """
        from camformer.training.workers import map_in_workers

        own = [{}] * len(self.models) if per_model is None else [dict(m) for m in per_model]
        if len(own) != len(self.models):
            raise ValueError(f"{len(own)} per-model argument sets for {len(self.models)} models")
        if len(self.models) == 1:
            return [fn(self.models[0], *args, **kwargs, **own[0])]
        return map_in_workers(_ask_model, list(zip(self.models, own)), threads=1, shared=(fn, args, kwargs),
                              desc="models")

    def sizing(self) -> str:
        """Why the sample holds fewer promoters than one model would get, in sentences for the
        page ("" where it holds them all): several models, each asked fewer (``ensemble_n``),
        or a model that costs more than the cost budget allows (:func:`affordable_n`)."""
        said = []
        if self.one_model_n is not None and self.asked < self.one_model_n:
            said.append(f"With {len(self.models)} models each is asked about {self.asked:,} promoters "
                        f"instead of the {self.one_model_n:,} one model gets, to keep the chapter's time.")
        if self.macs_budget is not None and len(self.sample) < min(self.asked, len(self.info["predictions"])):
            said.append(f"The preset asks for {self.asked:,} promoters; this model costs more, so its sample "
                        f"is sized to {self.macs_budget:.3g} multiply-accumulates of forward passes "
                        "(`camformer.records.book.affordable_n`).")
        return " ".join(said)


def affordable_n(models: Sequence[nn.Module], n: int | None, macs_budget: float | None, *,
                 least: int = 2) -> int | None:
    """The sample size a chapter can afford: ``n``, or fewer where the costliest model's forward
    passes over ``n`` promoters would exceed ``macs_budget`` multiply-accumulates
    (:func:`camformer.models.networks.count_macs` per sequence), but never fewer than ``least``.

    Parameters
    ----------
    models : sequence of nn.Module
        With their ``encoding`` (:func:`camformer.models.inference.model_encoding`).
    n : int or None
        The sample size asked for (None: every held-out promoter, without a cost budget).
    macs_budget : float or None
        Multiply-accumulates of one forward pass over the whole sample, per model (None: ``n``).

    Returns
    -------
    int: ``min(n, max(least, floor(macs_budget / max MACs per sequence)))``

    Examples
    --------
    A model of 10 MACs per sequence with a budget of 55: 5 of the 300 promoters asked for.
    """
    from camformer.data.dream import ENCODINGS, SEQ_LEN
    from camformer.models.inference import model_encoding
    from camformer.models.networks import count_macs

    if n is None:
        if macs_budget is not None:
            raise ValueError("a cost budget needs a sample size: n = None takes every held-out promoter")
        return None
    if n < 1:
        raise ValueError(f"n = {n}: a sample needs at least one promoter")
    if macs_budget is None:
        return n
    if not macs_budget > 0:
        raise ValueError(f"macs_budget = {macs_budget}: it must be a positive number of multiply-accumulates")
    cost = max(count_macs(m, (1, ENCODINGS[model_encoding(m)], SEQ_LEN)) for m in models)
    return min(n, max(least, int(macs_budget // max(cost, 1))))


def explaining(results_dir: str | os.PathLike, preset: str, *, prefer: str, n: int | None, seed: int = 0,
               n_boot: int = 1000, macs_budget: float | None = None,
               ensemble_n: int | None = None, dpi: int = 120) -> Explaining:
    """An interpretation chapter's set-up in one call: the models to explain
    (:func:`explained_models`), a seeded sample of ``n`` held-out promoters (``None``: all of them;
    ``ensemble_n``, where given, when several models are explained; fewer where the models cost
    more than ``macs_budget`` multiply-accumulates over it: :func:`affordable_n`) with their
    similarity units and encoded bases, torch's threads set to the CPU budget
    (:func:`camformer.training.cpu_budget.cpu_budget`), so a container with a quota of one CPU does
    not run two threads that wait on each other (for the chapter's own work; the models themselves
    are asked in one-thread workers by :meth:`Explaining.each_model`), figures drawn at ``dpi`` (as
    :func:`chapter_start` draws them), and pandas set to show a table's sentences whole."""
    import torch

    from camformer.stats.bootstrap import test_set_units
    from camformer.training.cpu_budget import cpu_budget
    from camformer.data.dream import encode_sequences

    _check_count("dpi", dpi)
    threads = cpu_budget().cpus
    torch.set_num_threads(threads)
    _draw_at(dpi)
    pd.set_option("display.max_colwidth", None)  # a table's verdicts are sentences: show them whole
    models, info = explained_models(results_dir, preset, prefer=prefer)
    asked = ensemble_n if ensemble_n is not None and len(models) > 1 else n
    sample = heldout_sample(info, affordable_n(models, asked, macs_budget), seed)
    units = test_set_units(sample["id"].to_numpy())
    return Explaining(models, info, sample, units, {"groups": units, "n_boot": n_boot, "seed": seed},
                      encode_sequences(sample["seq"].tolist()), threads, asked, n, macs_budget)
