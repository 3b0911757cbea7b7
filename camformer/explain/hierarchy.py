"""The paper's motif hierarchy: IME1 raises expression, IME1 with UME6 lowers it.

The steps of the paper's Figure 8 analysis and of the book's two motif chapters
(``notebooks/13_motifs``: the measured hierarchy; ``notebooks/14_motif_model``: what a model
learnt of it), built on :mod:`camformer.explain.motifs` (scanning) and :mod:`camformer.stats.interaction`
(contrasts with family-resampled intervals and computed verdicts):

- :func:`figure8_motifs`, :func:`paper_pair_effects`, :func:`row_differences`: the paper's 19
  motifs, its published pair means of the training data (``combinations.train.fc.txt``) and the
  differences of its Figure 8c;
- :func:`scan_library`: FIMO hits and presence on the sequences' 80-nt random regions;
- :func:`singles_agreement`, :func:`pair_rank_agreement`: how motif means rank like the paper's,
  with intervals;
- :func:`motif_free_backgrounds`, :func:`insertion_edits`, :func:`nested_insertion`,
  :func:`insertion_conclusion`: writing IME1 into UME6 the way the measured sequences have it,
  and the interaction a model predicts;
- :func:`hierarchy_facts`, :func:`measured_hierarchy_sentence`: the measured hierarchy's records
  (flat dicts of :func:`camformer.records.report.record` keys) and the sentence they allow;
- :class:`MotifQuestions`, :func:`model_findings`: what one model learnt (its predicted held-out
  contrasts beside the measured ones, its pair means against Figure 8b, its insertion
  contrasts), asked of each model of a seed ensemble alike; :func:`model_records`,
  :func:`heldout_view`, :func:`insertion_view`, :func:`across_text`: the k models' results
  (:func:`camformer.stats.ensemble.combine`: concluded only where all reach it) as records, tables and
  prose.

Motifs are named ``"<matrix id>.<TF name>"`` (``"MA0320.1.IME1"``); facts are keyed by the
lower-case TF names (``ime1_effect``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from . import motifs as M
from camformer.stats.ensemble import Across, across_models
from camformer.stats.verdicts import Verdict

PAPER_PAIRS = "combinations.train.fc.txt"


def motif_named(names, tf: str) -> str:
    """The first motif name ending in ``".<tf>"`` (``motif_named(names, "IME1") -> "MA0320.1.IME1"``)."""
    for name in names:
        if name.endswith(f".{tf}"):
            return name
    raise ValueError(f"no motif for {tf!r} among {list(names)}")


def short_name(name: str) -> str:
    """The TF name of a motif: ``"MA0320.1.IME1" -> "IME1"``."""
    return name.split(".")[-1]


def paper_pair_effects() -> pd.DataFrame:
    """The paper's published pair table of its training data (``combinations.train.fc.txt``)
    with :func:`camformer.explain.motifs.pair_effects`' column names: ``motif1, motif2, n`` and the
    paper's ``Mean_real`` (measured) and ``Mean_pred`` (predicted) means, among others."""
    from camformer.data.dream import load_paper_table

    table = load_paper_table(PAPER_PAIRS, sep="\t")
    return table.rename(columns={"Motif1": "motif1", "Motif2": "motif2", "N": "n"})


def figure8_motifs() -> dict[str, np.ndarray]:
    """The 19 JASPAR 2024 motifs of the paper's Figure 8, in its table's order (read offline)."""
    names = list(dict.fromkeys(paper_pair_effects()["motif1"]))
    motifs = M.jaspar_motifs(ids=names)
    return {name: motifs[name] for name in names}


def _singles(effects: pd.DataFrame) -> pd.DataFrame:
    """The single-motif rows of a pair table (its diagonal, without ``"(none)"``), indexed by motif."""
    single = effects[(effects["motif1"] == effects["motif2"]) & (effects["motif1"] != M.NONE_LABEL)]
    return single.set_index("motif1")


def diagonal_order(effects: pd.DataFrame, value: str, motifs=None) -> list[str]:
    """Motif names sorted by their single-motif ``value`` (the table's diagonal), highest first."""
    diagonal = _singles(effects)[value]
    if motifs is not None:
        diagonal = diagonal[diagonal.index.isin(list(motifs))]
    return list(diagonal.sort_values(ascending=False, kind="stable").index)


@dataclass(frozen=True)
class LibraryScan:
    """FIMO hits on a library (:func:`camformer.explain.motifs.scan`, ``seq_index`` = row of the library),
    the ``(N, n_motifs)`` bool presence table, and the scan's wall-clock seconds."""

    hits: pd.DataFrame
    presence: pd.DataFrame
    seconds: float

    def has(self, motif: str) -> np.ndarray:
        """bool ``(N,)``: which sequences contain ``motif``."""
        return self.presence[motif].to_numpy()


def scan_library(sequences, motifs: dict, *, threshold: float = 1e-4, region: slice = M.RANDOM_REGION
                 ) -> LibraryScan:
    """Scan sequences for motifs as the paper ran FIMO: on the random region only, p < ``threshold``.

    Parameters
    ----------
    sequences : N strings (A, C, G, T, N)
    motifs : dict name -> ``(4, w)`` letter probabilities
    threshold : FIMO's ``--thresh``
    region : the positions scanned (default the 80-nt random region, 17..96)

    Returns
    -------
    LibraryScan (hit positions relative to the region's start)
    """
    from camformer.data.dream import encode_sequences

    codes = encode_sequences(list(sequences))[:, region]
    started = time.perf_counter()
    hits = M.scan(codes, motifs, threshold=threshold)
    seconds = time.perf_counter() - started
    return LibraryScan(hits, M.presence_matrix(hits, len(codes), motifs), seconds)


def named_matrix(effects: pd.DataFrame, value: str, order) -> pd.DataFrame:
    """:func:`camformer.explain.motifs.pair_matrix` of ``value`` in ``order``, labelled by TF names."""
    return M.pair_matrix(effects, value, order).rename(index=short_name, columns=short_name)


def figure8bc(paper: pd.DataFrame, value: str = "Mean_pred") -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's Figure 8b and 8c tables (``Figure8bc.R``): the predicted pair means ordered by
    their diagonal (highest first), and :func:`row_differences` of them; labelled by TF names.

    Parameters
    ----------
    paper : :func:`paper_pair_effects`
    value : the column drawn (``"Mean_real"`` gives the measured panel of Figure 8b, and its differences)
    """
    means = named_matrix(paper, value, diagonal_order(paper, value))
    return means, row_differences(means)


def row_differences(matrix: pd.DataFrame) -> pd.DataFrame:
    """Each cell minus its row's diagonal cell: a pair's mean minus the row motif's own mean.

    This is the paper's Figure 8c (``Figure8bc.R``: ``pred - diagonal``, R recycling the diagonal
    down each column), drawn from the predicted means of :func:`paper_pair_effects`.
    """
    values = matrix.to_numpy(dtype=np.float64)
    return pd.DataFrame(values - np.diag(values)[:, None], index=matrix.index, columns=matrix.columns)


def rank_agreement(estimate, samples, reference, *, ci: float = 0.95) -> dict:
    """Spearman ρ between values and a fixed reference, with a percentile interval over resamples.

    Parameters
    ----------
    estimate : ``(k,)`` values of k cells (motifs or pairs)
    samples : ``(B, k)`` the same values on B resamples (:func:`camformer.stats.interaction.resampled_means`);
        in each resample, cells that are NaN there are left out
    reference : ``(k,)`` the reference values of the cells

    Returns
    -------
    dict ``rho, ci_low, ci_high`` (NaN with fewer than 3 cells) and ``cells``: the number of cells
    with a finite estimate and reference, the only ones compared
    """
    from scipy.stats import rankdata, spearmanr

    from camformer.stats.bootstrap import percentile_interval

    estimate, reference = np.asarray(estimate, np.float64), np.asarray(reference, np.float64)
    defined = np.isfinite(estimate) & np.isfinite(reference)  # cells without a value are left out
    estimate, reference = estimate[defined], reference[defined]
    if len(estimate) < 3:
        return {"rho": np.nan, "ci_low": np.nan, "ci_high": np.nan, "cells": len(estimate)}
    rows = np.asarray(samples, np.float64)[:, defined]
    drawn, used = np.full(len(rows), np.nan), np.zeros(len(rows), bool)
    complete = np.isfinite(rows).all(axis=1)
    if complete.any():  # every cell defined: Pearson's r of the ranks, all resamples at once
        x = rankdata(rows[complete], axis=1)
        x -= x.mean(axis=1, keepdims=True)
        y = rankdata(reference) - (len(reference) + 1) / 2
        with np.errstate(invalid="ignore", divide="ignore"):  # a constant resample: NaN, as spearmanr
            drawn[complete] = (x @ y) / np.sqrt((x * x).sum(axis=1) * (y @ y))
        used[complete] = True
    for i in np.flatnonzero(~complete):
        keep = np.isfinite(rows[i])
        if keep.sum() >= 3:
            drawn[i], used[i] = spearmanr(rows[i, keep], reference[keep]).statistic, True
    low, high = percentile_interval(drawn[used], ci)
    return {"rho": float(spearmanr(estimate, reference).statistic), "ci_low": low, "ci_high": high,
            "cells": len(estimate)}


def rank_verdict(agreement: dict):
    """The verdict (:class:`camformer.stats.verdicts.Verdict`) on a :func:`rank_agreement` result:
    ``"rank alike"`` when the interval of ρ lies above 0, ``"rank in reverse"`` below, else
    ``"cannot be told to rank alike"``; its :meth:`~camformer.stats.verdicts.Verdict.facts` are the records."""
    from camformer.stats.verdicts import Verdict, by_interval

    if not np.isfinite(agreement["ci_low"]):
        return Verdict("cannot be computed (too few cells)", agreement["rho"], np.nan, np.nan, False)
    return by_interval(agreement["rho"], agreement["ci_low"], agreement["ci_high"], above="rank alike",
                       below="rank in reverse", undecided="cannot be told to rank alike")


def rank_text(agreement: dict) -> str:
    """A :func:`rank_agreement` result as prose: its :func:`rank_verdict` words and, where defined,
    ``"Spearman ρ = 0.84 (95% CI 0.81 to 0.87)"``."""
    verdict = rank_verdict(agreement)
    if not np.isfinite(verdict.ci_low):
        return verdict.words
    return (f"{verdict.words}: Spearman ρ = {verdict.estimate:.2f} (95% CI {verdict.ci_low:.2f} to "
            f"{verdict.ci_high:.2f})")


def singles_agreement(values, presence: pd.DataFrame, reference: pd.DataFrame, order, *, families=None,
                      reference_value: str = "Mean_real", n_boot: int = 2000, seed: int = 0
                      ) -> tuple[pd.DataFrame, dict]:
    """Each single motif's mean, with an interval, beside a reference table's, and how they rank alike.

    Parameters
    ----------
    values : float ``(N,)``: the sequences' expression
    presence : bool ``(N, motifs)`` (:attr:`LibraryScan.presence`)
    reference : a pair table (:func:`paper_pair_effects`); ``reference_value`` is compared
    order : the motifs, in the rows' order
    families, n_boot, seed : resampling (:func:`camformer.stats.interaction.resampled_means`)

    Returns
    -------
    (DataFrame, dict)
        Rows ``order`` with columns ``n, mean, ci_low, ci_high, n_reference, mean_reference``, and
        :func:`rank_agreement` of ``mean`` against ``mean_reference``.
    """
    from camformer.stats.interaction import resampled_means

    order = list(order)
    masks = presence[order].to_numpy(dtype=bool)
    estimate, samples = resampled_means(values, masks, groups=families, n_boot=n_boot, seed=seed)
    theirs = _singles(reference).reindex(order)
    low, high = np.nanquantile(samples, [0.025, 0.975], axis=0)
    table = pd.DataFrame({"n": masks.sum(axis=0), "mean": estimate, "ci_low": low, "ci_high": high,
                          "n_reference": theirs["n"].to_numpy(), "mean_reference": theirs[reference_value].to_numpy()},
                         index=pd.Index(order, name="motif"))
    return table, rank_agreement(estimate, samples, table["mean_reference"].to_numpy())


def pair_rank_agreement(values, presence: pd.DataFrame, reference: pd.DataFrame, order, *, min_n: int = 10,
                        families=None, reference_value: str = "Mean_pred", n_boot: int = 2000, seed: int = 0
                        ) -> dict:
    """:func:`rank_agreement` of the mean values of the motif and pair cells (each unordered pair
    once, :func:`camformer.explain.motifs.pair_masks`) that hold at least ``min_n`` sequences, against a
    reference table's ``reference_value``; families (or sequences) resampled for the interval."""
    from camformer.stats.interaction import resampled_means

    cells, masks = M.pair_masks(presence, order)
    keep = masks.sum(axis=0) >= min_n
    theirs = reference.set_index(["motif1", "motif2"])[reference_value]
    ref = np.array([theirs.get(cell, np.nan) for cell in cells])
    keep &= np.isfinite(ref)
    if keep.sum() < 3:
        return {"rho": np.nan, "ci_low": np.nan, "ci_high": np.nan, "cells": int(keep.sum())}
    estimate, samples = resampled_means(values, masks[:, keep], groups=families, n_boot=n_boot, seed=seed)
    return rank_agreement(estimate, samples, ref[keep])


def motif_free_backgrounds(presence: pd.DataFrame, eligible, n: int, seed: int = 0) -> np.ndarray:
    """Rows of up to ``n`` sequences that contain none of the motifs of ``presence``, drawn at
    random (seeded, without replacement) among the ``eligible`` ones, in increasing order.

    Parameters
    ----------
    presence : bool DataFrame ``(N, n_motifs)``
    eligible : bool array ``(N,)`` or an array of row numbers
    """
    eligible = np.asarray(eligible)
    mask = np.zeros(len(presence), bool)
    if eligible.dtype == bool:
        mask[:] = eligible
    else:
        mask[eligible] = True
    clean = np.flatnonzero(mask & ~presence.to_numpy().any(axis=1))
    chosen = np.random.default_rng(seed).choice(clean, size=min(n, len(clean)), replace=False)
    return np.sort(chosen)


def random_backgrounds(table: pd.DataFrame, presence: pd.DataFrame, rows, n: int, seed: int = 0) -> np.ndarray:
    """uint8 codes ``(<= n, L)`` of backgrounds for insertion: :func:`motif_free_backgrounds` among
    the rows ``rows`` of the test ``table`` (e.g. the held-out ones) that belong to its ``random``
    subset (random promoters, no designed variants), in row order."""
    from camformer.data.dream import encode_sequences, subset_membership

    rows = np.asarray(rows)
    is_random = subset_membership(table)["random"].to_numpy()
    chosen = motif_free_backgrounds(presence, rows[is_random[rows]], n, seed=seed)
    return encode_sequences(table["seq"].iloc[chosen].tolist())


# ---------------------------------------------------------------------------- insertion

BACKGROUND = "background"


def shared_prefix(a: str) -> str:
    """The site name under which :func:`insertion_design` writes only A's letters shared with B."""
    return f"{a}[shared]"


def insertion_design(a: str, b: str, offset: int, *, position: int = 30, apart: int = 60
                     ) -> dict[str, dict[str, int]]:
    """The edits of the insertion experiment: label -> {site: 0-based start}, in writing order.

    B sits at ``position`` and A at ``position + offset`` ("A inside B" as the measured sequences
    have it; "A alone" is A at that same place). "A's shared letters" writes only the letters of A
    that lie inside B's span (site :func:`shared_prefix`), at A's place. The "apart" control keeps
    A where "alone" puts it and moves B to ``apart``, so the two interactions differ only in where
    B is.
    """
    A, B = short_name(a), short_name(b)
    at = position + offset
    return {f"{A} alone": {a: at}, f"{B} alone": {b: position}, f"{A} inside {B}": {a: at, b: position},
            f"{A}'s shared letters": {shared_prefix(a): at},
            f"{B} apart": {b: apart}, f"{A} and {B} apart": {a: at, b: apart}}


def insertion_contrasts(names: tuple[str, str] = ("IME1", "UME6")) -> tuple:
    """The insertion experiment's contrasts (:class:`camformer.stats.interaction.Contrast`) over the
    columns of :func:`insertion_design` and ``"background"``.

    When A's site starts inside B's (IME1's first seven letters are UME6's last seven), "A inside
    B" differs from "B alone" only in A's own letters (those past B's end), while "A alone"
    differs from the background in all of A's. Comparing those two edits is not a contrast: it is
    negative whenever A raises expression, whatever B does. The fair interaction edits the same
    letters in both contexts: A's own letters added to B, minus A's own letters added to A's
    shared letters alone,

    ``(A inside B - B alone) - (A alone - A's shared letters)``,

    a 2 x 2 design in B's own letters (present or not) and A's own letters (present or not), with
    the shared letters written in all four cells: zero, background by background, for any model
    whose output is a sum of per-position effects. With B apart the two sites share no letter, and
    ``(A and B apart - B apart) - (A alone - background)`` is fair as it stands.

    Verdicts are drawn for A alone and the two interactions (the test); the others (A alone, B
    alone, A inside B against the background, and A's own letters in each context) are shown.
    """
    from camformer.stats.interaction import Contrast

    A, B = (short_name(n) for n in names)
    a, b = A.lower(), B.lower()
    alone_a, alone_b, inside, shared, b_apart, both_apart = insertion_design(A, B, 0)
    inside_words = dict(above=f"completing {A} adds more inside {B} than without {B}'s own letters",
                        below=f"completing {A} adds less inside {B} than without {B}'s own letters",
                        undecided=f"no evidence that completing {A} adds differently inside {B} "
                                  "(the interval holds zero)")
    apart_words = dict(above=f"{A} adds more beside {B} than alone", below=f"{A} adds less beside {B} than alone",
                       undecided=f"no evidence that {A} adds differently beside {B} (the interval holds zero)")
    return (
        Contrast(f"{A} alone", f"insertion_{a}", {alone_a: 1, BACKGROUND: -1}),
        Contrast(f"{B} alone", f"insertion_{b}", {alone_b: 1, BACKGROUND: -1}, tested=False),
        Contrast(f"{A} inside {B}", f"insertion_{a}_inside_{b}", {inside: 1, BACKGROUND: -1}, tested=False),
        Contrast(f"{A}'s own letters after {B}", f"insertion_{a}_completed_inside_{b}", {inside: 1, alone_b: -1},
                 tested=False),
        Contrast(f"{A}'s own letters after its shared letters", f"insertion_{a}_completed_alone",
                 {alone_a: 1, shared: -1}, tested=False),
        Contrast(f"interaction, {A} inside {B}", f"insertion_{a}_{b}_interaction",
                 {inside: 1, alone_b: -1, alone_a: -1, shared: 1}, **inside_words),
        Contrast(f"interaction, {A} and {B} apart", f"insertion_{a}_{b}_interaction_apart",
                 {both_apart: 1, b_apart: -1, alone_a: -1, BACKGROUND: 1}, **apart_words),
    )


@dataclass(frozen=True)
class NestedInsertion:
    """The insertion experiment (:func:`nested_insertion`, :meth:`InsertionEdits.predict`).

    Attributes
    ----------
    predictions : DataFrame ``(kept backgrounds, 1 + edits)``: the model's prediction for each kept
        background (column ``"background"``) and for each edit of ``design``
    design : :func:`insertion_design`
    configurations : how measured hits of A overlap B (:func:`camformer.explain.motifs.overlap_configurations`)
    kept : bool ``(n_backgrounds,)``: backgrounds whose every edit holds exactly the motifs written
        (FIMO presence as in the measured groups); the others are left out
    contains : DataFrame: for each edit (rows) and motif (columns), the share of all backgrounds in
        which FIMO finds the motif after the edit
    """

    predictions: pd.DataFrame
    design: dict
    configurations: pd.DataFrame
    kept: np.ndarray
    contains: pd.DataFrame

    def contrasts(self, names: tuple[str, str], *, n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
        """:func:`camformer.stats.interaction.contrast_table` of :func:`insertion_contrasts`, the kept
        backgrounds resampled (paired: one resample holds every edit of a background)."""
        from camformer.stats.interaction import contrast_table, resampled_means

        estimate, samples = resampled_means(self.predictions.to_numpy(), n_boot=n_boot, seed=seed)
        columns = self.predictions.columns
        return contrast_table(pd.Series(estimate, index=columns), pd.DataFrame(samples, columns=columns),
                              insertion_contrasts(names))


@dataclass(frozen=True)
class InsertionEdits:
    """The insertion experiment's edited sequences, before any model sees them
    (:func:`insertion_edits`): what every model of an ensemble is asked about.

    Attributes
    ----------
    edited : dict label -> uint8 codes ``(kept backgrounds, L)``: ``"background"`` and each edit of
        ``design``, on the kept backgrounds only
    design, configurations, kept, contains : as for :class:`NestedInsertion`
    """

    edited: dict
    design: dict
    configurations: pd.DataFrame
    kept: np.ndarray
    contains: pd.DataFrame

    def predict(self, model, *, encoding: str | None = None, batch_size: int = 1024, device=None
                ) -> NestedInsertion:
        """One model's predictions of every edit (:func:`camformer.models.inference.predict`)."""
        from camformer.models.inference import predict

        n = len(self.kept.nonzero()[0])
        every = np.concatenate(list(self.edited.values()))  # one call for all edits: (edits x n, L)
        values = (predict(model, every, encoding=encoding, batch_size=batch_size, device=device).astype(np.float64)
                  if n else np.zeros(0))
        predictions = pd.DataFrame({label: values[i * n:(i + 1) * n] for i, label in enumerate(self.edited)})
        return NestedInsertion(predictions, self.design, self.configurations, self.kept, self.contains)


def insertion_edits(backgrounds, motifs: dict, a: str, b: str, hits: pd.DataFrame, *, position: int = 30,
                    apart: int = 60, threshold: float = 1e-4, region: slice = M.RANDOM_REGION) -> InsertionEdits:
    """Write A and B into backgrounds alone, A inside B as the measured sequences have it, and
    apart (:func:`insertion_design`), and keep the backgrounds where FIMO finds what was written.

    A's offset on B is the most common offset of A's overlapping hits on B in ``hits`` with both
    on the forward strand (:func:`camformer.explain.motifs.overlap_configurations`). A is written first
    and B over it; for IME1 in UME6 (offset 5) the two consensus sequences agree where they
    overlap (``ATTAG[CCGCCGA]`` and ``[CCGCCGA]G``), so "A inside B" holds both sites whole, and
    "A's shared letters" writes ``CCGCCGA`` at A's place (the fair contrast of
    :func:`insertion_contrasts` needs it).

    A consensus written next to background letters can complete the other motif (UME6's
    consensus ends in IME1's first seven letters), so a background is kept only when FIMO
    (:func:`camformer.explain.motifs.scan` of ``region``, p < ``threshold``) finds in each edit exactly
    the motifs written there, and neither in the background itself. No model is involved: the
    edits are made once and every model predicts the same ones (:meth:`InsertionEdits.predict`).

    Parameters
    ----------
    backgrounds : uint8 codes ``(N, L)`` (full-length sequences)
    motifs : dict name -> ``(4, w)``, holding A and B
    a, b : motif names
    hits : FIMO hits (:func:`scan_library`) in which A's and B's overlaps are counted
    position, apart : B's start inside and apart (full-sequence coordinates, inside ``region``)

    Raises
    ------
    ValueError
        No forward-strand overlap of A on B in ``hits``; A not starting inside B and ending past
        it, or their consensus letters differing where they overlap (then "A inside B" is not B
        plus A's own letters, and no fair contrast exists); a site outside ``region``; or A and B
        overlapping in the "apart" edit.
    """
    configurations = M.overlap_configurations(hits, a, b)
    forward = configurations[(configurations["strand_a"] == "+") & (configurations["strand_b"] == "+")]
    if forward.empty:
        raise ValueError(f"no overlapping forward-strand hits of {a} and {b} to place {a} inside {b}")
    offset = int(forward["offset"].iloc[0])
    site_a, site_b = M.consensus(np.asarray(motifs[a])), M.consensus(np.asarray(motifs[b]))
    shared = len(site_b) - offset  # A's letters that lie inside B's span
    if not 0 < shared < len(site_a) or offset < 0:
        raise ValueError(f"{a} at offset {offset} on {b} must start inside {b} and end past it for a fair "
                         f"nested contrast (widths {len(site_a)} and {len(site_b)})")
    if site_b[offset:] != site_a[:shared]:
        raise ValueError(f"{a} ({site_a}) and {b} ({site_b}) disagree where they overlap at offset {offset}")
    design = insertion_design(a, b, offset, position=position, apart=apart)
    width = {name: np.asarray(motifs[name]).shape[-1] for name in (a, b)}
    width[shared_prefix(a)] = shared
    for label, sites in design.items():
        for name, start in sites.items():
            if start < region.start or start + width[name] > region.stop:
                raise ValueError(f"{label}: {name} at {start} lies outside the scanned region {region}")
    at, far = design[f"{short_name(a)} and {short_name(b)} apart"].values()
    if at < far + width[b] and far < at + width[a]:
        raise ValueError(f"apart = {apart} makes {b} overlap {a} at {at}")
    backgrounds = np.asarray(backgrounds, np.uint8)
    pair = {a: motifs[a], b: motifs[b]}
    written = {**pair, shared_prefix(a): site_a[:shared]}
    edited = {BACKGROUND: backgrounds, **{label: M.insert_motifs(backgrounds, written, sites)
                                          for label, sites in design.items()}}
    kept = np.ones(len(backgrounds), bool)
    contains = {}
    for label, codes in edited.items():
        found = M.presence_matrix(M.scan(codes[:, region], pair, threshold), len(codes), pair)
        expected = np.array([name in design.get(label, {}) for name in pair])
        kept &= (found.to_numpy() == expected).all(axis=1)
        contains[label] = found.mean()
    contains = pd.DataFrame(contains).T.rename(columns=short_name)
    return InsertionEdits({label: codes[kept] for label, codes in edited.items()}, design, configurations, kept,
                          contains)


def nested_insertion(model, backgrounds, motifs: dict, a: str, b: str, hits: pd.DataFrame, *,
                     position: int = 30, apart: int = 60, encoding: str | None = None, threshold: float = 1e-4,
                     region: slice = M.RANDOM_REGION, batch_size: int = 1024, device=None) -> NestedInsertion:
    """:func:`insertion_edits`, predicted by one model (:meth:`InsertionEdits.predict`).

    Parameters
    ----------
    model : nn.Module mapping ``(N, C, L)`` to ``(N,)``
    backgrounds, motifs, a, b, hits, position, apart, threshold, region : see :func:`insertion_edits`
    encoding, batch_size, device : see :func:`camformer.models.inference.predict`
    """
    edits = insertion_edits(backgrounds, motifs, a, b, hits, position=position, apart=apart, threshold=threshold,
                            region=region)
    return edits.predict(model, encoding=encoding, batch_size=batch_size, device=device)


def insertion_conclusion(result, names: tuple[str, str] = ("IME1", "UME6")) -> str:
    """The sentence the insertion experiment allows about the fair interaction of A inside B,
    computed from its verdict, never fixed.

    ``result`` is one model's :meth:`NestedInsertion.contrasts` table, or the
    :class:`camformer.stats.ensemble.Across` of k models' verdicts on that interaction (its key
    ``insertion_<a>_<b>_interaction``): a conclusion is drawn only where all k models reach it.
    An interval that holds zero is no evidence of an interaction; it is not evidence that the
    effects add up.
    """
    A, B = (short_name(n) for n in names)
    contrast = [c for c in insertion_contrasts(names) if c.name == f"interaction, {A} inside {B}"][0]
    if isinstance(result, pd.DataFrame):
        row = result.loc[contrast.name]
        result = across_models([Verdict(row["words"], float(row.get("difference", np.nan)), np.nan, np.nan,
                                        bool(row["decided"]))])
    v, k = result.verdict, result.k
    said = {m.words for m in result.per_model}
    if v.decided:
        return f"{'The model has' if k == 1 else f'All {k} models have'} learnt an interaction: {v.words}."
    if said == {contrast.undecided}:
        return (f"The interval of the interaction holds zero{'' if k == 1 else f' in all {k} models'}: this "
                f"experiment shows no evidence that, in {'the model' if k == 1 else 'these models'}, {B}'s own "
                f"letters change what completing {A} adds. That is not evidence that they add up: a smaller "
                "interaction would go unseen.")
    if len(said) == 1:
        return f"The interaction {v.words}{'' if k == 1 else f' in all {k} models'}."
    return (f"The models do not agree on the interaction ({result.agreement()}), so this experiment draws no "
            "conclusion about it.")


# ---------------------------------------------------------------------------- records

def _key(name: str) -> str:
    return short_name(name).lower()


def hierarchy_verdict(contrasts: pd.DataFrame, names: tuple[str, str] = ("IME1", "UME6")) -> str:
    """Whether the paper's hierarchy (A without B raises expression, A with B lowers it) holds in
    a :func:`camformer.stats.interaction.group_contrasts` table: ``"holds"``, ``"does not hold"`` (both
    decided, not both as the paper says) or ``"cannot be told"`` (either undecided)."""
    A, B = (short_name(n) for n in names)
    alone, both = contrasts.loc[f"{A} without {B}"], contrasts.loc[f"{A} and {B}"]
    if not (alone["decided"] and both["decided"]):
        return "cannot be told"
    return "holds" if (alone["words"], both["words"]) == ("raises", "lowers") else "does not hold"


def hierarchy_facts(groups: pd.DataFrame, contrasts: pd.DataFrame, *, names: tuple[str, str] = ("IME1", "UME6"),
                    prefix: str = "") -> dict:
    """The records of a :func:`camformer.stats.interaction.group_contrasts` result: its contrasts
    (:func:`camformer.stats.interaction.contrast_facts`), ``hierarchy_verdict``, and the group sizes
    ``n_a`` (A only), ``n_b`` (B only), ``n_a_b``, ``n_neither`` and ``n_a_b_units`` (resampled units holding both)
    (keys in lower case, after ``prefix``)."""
    from camformer.stats.interaction import contrast_facts, group_names

    a, b = (_key(n) for n in names)
    both, a_only, b_only, neither = group_names(tuple(short_name(n) for n in names))
    facts = contrast_facts(contrasts, prefix)
    facts.update({f"{prefix}n_{a}": int(groups.loc[a_only, "n"]), f"{prefix}n_{b}": int(groups.loc[b_only, "n"]),
                  f"{prefix}n_{a}_{b}": int(groups.loc[both, "n"]), f"{prefix}n_neither": int(groups.loc[neither, "n"]),
                  f"{prefix}n_{a}_{b}_units": int(groups.loc[both, "units"]),
                  f"{prefix}hierarchy_verdict": hierarchy_verdict(contrasts, names)})
    return facts


def measured_hierarchy_sentence(facts: Mapping, names: tuple[str, str] = ("IME1", "UME6")) -> str:
    """The measured hierarchy of chapter 13_motifs in one sentence, from the records it made
    (:func:`hierarchy_facts`, section ``motifs``): its verdicts, never fixed text; where they are
    not recorded (the chapter did not run in this build), a sentence that says so and states none."""
    A, B = (short_name(n) for n in names)
    a, b = A.lower(), B.lower()
    keys = (f"{a}_effect_verdict", f"{a}_{b}_effect_verdict", f"{a}_{b}_interaction_verdict", "hierarchy_verdict")
    if not all(isinstance(facts.get(key), str) for key in keys):
        return (f"Chapter 13_motifs has not recorded its measured contrasts in this build, so what {A} and {B} do "
                "in the measured library is not restated here.")
    alone, both, interaction, hierarchy = (facts[key] for key in keys)
    return (f"In the measured test library (chapter 13_motifs), {A} without {B} {alone} expression against "
            f"sequences with neither motif, {A} with {B} {both} it, and together the two are {interaction}: "
            f"the paper's hierarchy {hierarchy} there.")


# ---------------------------------------------------------------------------- what models learnt

HELDOUT_TESTED = ("{A} without {B}", "interaction")  # the two contrasts the hierarchy rests on
MODEL_KEYS = ("ime1_effect", "ime1_ume6_effect", "ime1_ume6_interaction")  # held-out contrasts recorded
RANK_KEY = "rho_with_figure8_predicted"
# The range of the findings that have one (the rank correlation); contrasts of means have none.
RANGES: dict[str, tuple[float, float]] = {RANK_KEY: (-1.0, 1.0)}


def _verdict(row) -> Verdict:
    """One row of :func:`camformer.stats.interaction.contrast_table` as a :class:`Verdict`."""
    return Verdict(row["words"], float(row["difference"]), float(row["ci_low"]), float(row["ci_high"]),
                   bool(row["decided"]), row.get("undecided"))


@dataclass(frozen=True)
class MotifQuestions:
    """What the motif chapter asks of every model, fixed before any model answers.

    Attributes
    ----------
    measured : float ``(N,)``: measured expression of the held-out sequences
    presence : bool DataFrame ``(N, motifs)``: which of them hold each motif (:attr:`LibraryScan.presence`)
    families : ``(N,)``: their similarity units (:func:`camformer.stats.bootstrap.test_set_units`), resampled
    a, b : the motif names of A and B (``"MA0320.1.IME1"``, ...)
    paper : :func:`paper_pair_effects`, whose ``Mean_pred`` the pair means are ranked against
    order : the motifs in Figure 8b's order
    edits : :func:`insertion_edits`, predicted by every model
    min_n : pair cells with fewer sequences are not ranked
    n_boot, seed : resampling; the same for every model, so their intervals use the same resamples
    """

    measured: np.ndarray
    presence: pd.DataFrame
    families: np.ndarray
    a: str
    b: str
    paper: pd.DataFrame
    order: list
    edits: InsertionEdits
    min_n: int = 10
    n_boot: int = 2000
    seed: int = 0

    @property
    def names(self) -> tuple[str, str]:
        return short_name(self.a), short_name(self.b)

    def contrasts(self, values) -> pd.DataFrame:
        """:func:`camformer.stats.interaction.group_contrasts` of ``values`` (``(N,)``, measured or one
        model's predictions) on the held-out groups; verdicts for :data:`HELDOUT_TESTED` only."""
        from camformer.stats.interaction import group_contrasts

        A, B = self.names
        return group_contrasts(np.asarray(values, np.float64), self.presence[self.a].to_numpy(bool),
                               self.presence[self.b].to_numpy(bool), names=self.names, families=self.families,
                               n_boot=self.n_boot, seed=self.seed,
                               tested=[t.format(A=A, B=B) for t in HELDOUT_TESTED])[1]


@dataclass(frozen=True)
class ModelFindings:
    """One model's answers to :class:`MotifQuestions` (:func:`model_findings`).

    Attributes
    ----------
    verdicts : dict record key -> Verdict
        ``predicted_<key>`` for each held-out contrast, every insertion contrast
        (:func:`insertion_contrasts`' keys) and :data:`RANK_KEY`; shown contrasts carry no words.
    shown : frozenset of str
        The keys shown with their interval but not tested (no verdict is recorded for them).
    contrasts : DataFrame
        The held-out contrasts of the model's predictions (:meth:`MotifQuestions.contrasts`).
    insertion : NestedInsertion
    effects : DataFrame
        :meth:`NestedInsertion.contrasts`.
    ranks : dict
        :func:`pair_rank_agreement` of the predicted pair means against Figure 8b's.
    """

    verdicts: dict
    shown: frozenset
    contrasts: pd.DataFrame
    insertion: NestedInsertion
    effects: pd.DataFrame
    ranks: dict


def model_findings(model, predicted, questions: MotifQuestions) -> ModelFindings:
    """Ask one model the motif chapter's questions: its predicted held-out contrasts, how its
    pair means rank against the paper's Figure 8b, and what it predicts for the insertion edits.

    Parameters
    ----------
    model : nn.Module (its input encoding from :func:`camformer.models.inference.model_encoding`)
    predicted : float ``(N,)``: the model's predictions of the held-out sequences of ``questions``
    questions : MotifQuestions

    Returns
    -------
    ModelFindings; combine k models' ``verdicts`` with :func:`camformer.stats.ensemble.combine`.
    """
    from camformer.models.inference import model_encoding

    q = questions
    predicted = np.asarray(predicted, np.float64)
    if predicted.shape != q.measured.shape:
        raise ValueError(f"{predicted.shape} predictions for {q.measured.shape} held-out sequences")
    contrasts = q.contrasts(predicted)
    insertion = q.edits.predict(model, encoding=model_encoding(model))
    effects = insertion.contrasts(q.names, n_boot=q.n_boot, seed=q.seed)
    ranks = pair_rank_agreement(predicted, q.presence, q.paper, q.order, min_n=q.min_n, families=q.families,
                                n_boot=q.n_boot, seed=q.seed)
    verdicts = {f"predicted_{row['key']}": _verdict(row) for _, row in contrasts.iterrows()}
    verdicts |= {row["key"]: _verdict(row) for _, row in effects.iterrows()}
    verdicts[RANK_KEY] = rank_verdict(ranks)
    shown = frozenset([f"predicted_{k}" for k in contrasts.loc[~contrasts["tested"], "key"]]
                      + list(effects.loc[~effects["tested"], "key"]))
    return ModelFindings(verdicts, shown, contrasts, insertion, effects, ranks)


def agreement(measured: pd.DataFrame, combined: Mapping[str, Across]) -> dict[str, str]:
    """For each tested held-out contrast: do the measured verdict and the models' agree
    (:func:`camformer.stats.interaction.directions_agree`)? The models' verdict is the ensemble's
    (:func:`camformer.stats.ensemble.across_models`): decided only where all models reach it, so a
    contrast on which the models differ "cannot tell". Keys are the contrasts' record keys."""
    from camformer.stats.interaction import directions_agree

    return {row["key"]: directions_agree(row, combined[f"predicted_{row['key']}"].verdict)
            for _, row in measured[measured["tested"]].iterrows()}


def model_records(measured: pd.DataFrame, combined: Mapping[str, Across], shown, *, keys=MODEL_KEYS) -> dict:
    """The records of the motif chapter's model-dependent results and of the measured held-out
    contrasts beside them.

    - ``measured_heldout_<key>`` (with ``_ci_low``, ``_ci_high``, and for a tested contrast
      ``_verdict`` and ``_decided``): the measured contrasts ``keys``, data only, recorded once;
    - :func:`camformer.stats.ensemble.facts` of ``combined`` for the held-out contrasts ``keys``
      (``predicted_<key>``), every insertion contrast and :data:`RANK_KEY`: the mean over the
      models with the between-model interval, the verdict reached by all models (one model: its
      own, with its interval over promoters or backgrounds) and, with k > 1, ``_models`` and
      ``_agreeing_models``. A contrast in ``shown`` (not tested) records its numbers only;
    - ``<key>_agreement`` for each tested contrast of ``keys`` (:func:`agreement`).
    """
    from camformer.stats.ensemble import facts
    from camformer.stats.interaction import contrast_facts

    rows = measured[measured["key"].isin(keys)]
    out = contrast_facts(rows, "measured_heldout_")
    judged = {key: across for key, across in combined.items()
              if not key.startswith("predicted_") or key.removeprefix("predicted_") in keys}
    for key, value in facts(judged).items():
        if any(key == f"{s}{end}" for s in shown for end in ("_verdict", "_decided", "_agreeing_models")):
            continue  # an untested contrast has numbers, no verdict
        out[key] = value
    out |= {f"{key}_agreement": words for key, words in agreement(rows, combined).items()}
    return out


def across_text(across: Across, digits: int = 3) -> str:
    """A result of k models as prose: ``"-0.024 (95% CI -0.054 to +0.008): <verdict>"`` for one
    model (its interval over promoters); ``"-0.031 on average (95% CI between the 3 models -0.07
    to +0.01): <verdict> (in 3 of 3 models)"`` for several. An untested result has no verdict;
    an undefined one gives its words only."""
    v = across.verdict
    if not np.isfinite(v.estimate):
        return v.words or "cannot be computed"
    if not np.isfinite(v.ci_low):
        number = f"{v.estimate:+.{digits}f}"
    elif across.k == 1:
        number = f"{v.estimate:+.{digits}f} (95% CI {v.ci_low:+.{digits}f} to {v.ci_high:+.{digits}f})"
    else:
        number = (f"{v.estimate:+.{digits}f} on average (95% CI between the {across.k} models "
                  f"{v.ci_low:+.{digits}f} to {v.ci_high:+.{digits}f})")
    return f"{number}: {across.stated()}" if v.words else number


def _view(combined: Mapping[str, Across], names: Mapping[str, str], shown) -> pd.DataFrame:
    """:func:`camformer.stats.ensemble.table` of the keys in ``names`` (rows named by it, in its order);
    a shown (untested) row says "not tested" instead of a verdict. With one model, its own column
    and the count of models are left out (the estimate says it)."""
    from camformer.stats.ensemble import table

    view = table({key: combined[key] for key in names}, names)
    first = combined[next(iter(names))]
    untested = [names[key] for key in names if key in shown]
    view.loc[untested, "verdict"] = "not tested"
    undefined = [names[key] for key in names if not np.isfinite(combined[key].verdict.estimate)]
    view.loc[undefined, view.columns[first.k]] = "—"  # not "+nan": the verdict says why
    if first.k == 1:
        return view.drop(columns=[*first.labels, "models agreeing"])
    view.loc[untested, "models agreeing"] = ""
    return view


def heldout_view(measured: pd.DataFrame, combined: Mapping[str, Across], shown) -> pd.DataFrame:
    """The held-out contrasts for the page: the measured one (its 95% interval over similarity
    units and verdict), each model's prediction, the mean over models with its between-model
    interval, the models' verdict and :func:`agreement` with the measured verdict.

    ``measured``: :meth:`MotifQuestions.contrasts` of the measured values; ``combined`` and
    ``shown`` from :func:`camformer.stats.ensemble.combine` and :class:`ModelFindings`."""
    from camformer.stats.interaction import contrast_text

    view = _view(combined, {f"predicted_{row['key']}": name for name, row in measured.iterrows()}, shown)
    view.insert(0, "measured", [contrast_text(row) for _, row in measured.iterrows()])
    agreed = agreement(measured, combined)
    view["agreement"] = [agreed.get(key, "not tested") for key in measured["key"]]
    return view


def insertion_view(effects: pd.DataFrame, combined: Mapping[str, Across], shown) -> pd.DataFrame:
    """The insertion contrasts (rows of one model's :meth:`NestedInsertion.contrasts`, which name
    them) for the page, across the models as :func:`heldout_view` shows them."""
    return _view(combined, {row["key"]: name for name, row in effects.iterrows()}, shown)
