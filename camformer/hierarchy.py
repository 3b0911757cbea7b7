"""The paper's motif hierarchy: IME1 raises expression, IME1 with UME6 lowers it.

The steps of the paper's Figure 8 analysis and of the book's two motif chapters
(``notebooks/13_motifs``: the measured hierarchy; ``notebooks/14_motif_model``: what a model
learnt of it), built on :mod:`camformer.motifs`:

- :func:`figure8_motifs`, :func:`paper_pair_effects`: the paper's 19 motifs and its published
  pair means of the training data (``combinations.train.fc.txt``);
- :func:`scan_library`: FIMO hits and presence on the sequences' 80-nt random regions;
- :func:`singles_agreement`, :func:`pair_rank_agreement`: how a pair table ranks like the paper's;
- :func:`predicted_vs_measured`, :func:`signs_agree`: the hierarchy test on measured and
  predicted expression of the same sequences;
- :func:`motif_free_backgrounds`, :func:`nested_insertion`: writing IME1 into UME6 the way the
  measured sequences have it;
- :func:`hierarchy_facts`, :func:`model_facts`, :func:`insertion_facts`: the numbers the book
  records (flat dicts of :func:`camformer.report.record` keys).

Motifs are named ``"<matrix id>.<TF name>"`` (``"MA0320.1.IME1"``); facts are keyed by the
lower-case TF names (``ime1_effect``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from camformer import motifs as M

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
    with :func:`camformer.motifs.pair_effects`' column names: ``motif1, motif2, n`` and the
    paper's ``Mean_real`` (measured) and ``Mean_pred`` (predicted) means, among others."""
    from camformer.data import load_paper_table

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
    """FIMO hits on a library (:func:`camformer.motifs.scan`, ``seq_index`` = row of the library),
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
    from camformer.data import encode_sequences

    codes = encode_sequences(list(sequences))[:, region]
    started = time.perf_counter()
    hits = M.scan(codes, motifs, threshold=threshold)
    seconds = time.perf_counter() - started
    return LibraryScan(hits, M.presence_matrix(hits, len(codes), motifs), seconds)


def singles_agreement(effects: pd.DataFrame, reference: pd.DataFrame, order, *, value: str = "mean",
                      reference_value: str = "Mean_real") -> tuple[pd.DataFrame, float]:
    """Each single motif's mean beside a reference table's, and how the two rank alike.

    Parameters
    ----------
    effects, reference : pair tables (:func:`camformer.motifs.pair_effects`, :func:`paper_pair_effects`)
    order : the motifs, in the rows' order
    value, reference_value : the column compared in each

    Returns
    -------
    (DataFrame, float)
        Rows ``order`` with columns ``n, mean, n_reference, mean_reference``, and the
        Spearman ρ of ``mean`` against ``mean_reference`` (NaN with fewer than 2 motifs).
    """
    mine, theirs = _singles(effects).reindex(order), _singles(reference).reindex(order)
    table = pd.DataFrame({"n": mine["n"], "mean": mine[value], "n_reference": theirs["n"],
                          "mean_reference": theirs[reference_value]})
    table.index.name = "motif"
    return table, float(table["mean"].corr(table["mean_reference"], method="spearman"))


def pair_rank_agreement(effects: pd.DataFrame, reference: pd.DataFrame, order, *, min_n: int = 10,
                        value: str = "mean", reference_value: str = "Mean_pred") -> tuple[float, int]:
    """Spearman ρ between two pair tables over the motif and pair cells of ``effects`` with at
    least ``min_n`` sequences (and a reference value), and the number of those cells.

    Each unordered pair counts twice (its matrix is symmetric), as the diagonal once each.
    """
    mine = M.pair_matrix(effects, value, order).where(M.pair_matrix(effects, "n", order) >= min_n)
    theirs = M.pair_matrix(reference, reference_value, order)
    cells = pd.DataFrame({"mine": mine.to_numpy().ravel(), "theirs": theirs.to_numpy().ravel()}).dropna()
    rho = float(cells["mine"].corr(cells["theirs"], method="spearman")) if len(cells) >= 2 else float("nan")
    return rho, len(cells)


def predicted_vs_measured(measured, predicted, has_a, has_b, *, names: tuple[str, str] = ("IME1", "UME6"),
                          n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """:func:`camformer.motifs.motif_hierarchy` on the same sequences' measured and predicted
    expression, side by side.

    Parameters
    ----------
    measured, predicted : float arrays (N,)
    has_a, has_b : bool arrays (N,)

    Returns
    -------
    DataFrame indexed by group, with two-level columns ``(statistic, "measured" | "predicted")``
    for the statistics ``n, difference, ci_low, ci_high, direction``.
    """
    tables = [M.motif_hierarchy(values, has_a, has_b, names=names, n_boot=n_boot, seed=seed).assign(values=label)
              for label, values in (("measured", measured), ("predicted", predicted))]
    return pd.concat(tables).pivot(index="group", columns="values",
                                   values=["n", "difference", "ci_low", "ci_high", "direction"])


def signs_agree(compared: pd.DataFrame, groups=None) -> bool:
    """Whether the predicted differences of :func:`predicted_vs_measured` have the measured signs,
    in ``groups`` (default all of its groups)."""
    groups = list(compared.index) if groups is None else list(groups)
    difference = compared["difference"].loc[groups]
    return bool((np.sign(difference["measured"].astype(float))
                 == np.sign(difference["predicted"].astype(float))).all())


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


def nested_insertion(model, backgrounds, motifs: dict, a: str, b: str, hits: pd.DataFrame, *,
                     position: int = 30, apart: int = 60, encoding: str | None = None, seed: int = 0
                     ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Insert A and B into backgrounds alone, A inside B as the measured sequences have it, and apart.

    B is written at ``position``, and A at ``position`` plus the offset of A's overlapping hits
    on B that is most common in ``hits`` with both on the forward strand
    (:func:`camformer.motifs.overlap_configurations`). A is written first and B over it; for
    IME1 in UME6 (offset 5) the two consensus sequences agree where they overlap
    (``ATTAG[CCGCCGA]`` and ``[CCGCCGA]G``), so "both" holds both sites whole. For comparison, A is
    also written at ``apart`` with B at ``position``.

    Parameters
    ----------
    model : nn.Module mapping ``(N, C, L)`` to ``(N,)``
    backgrounds : uint8 codes ``(N, L)`` (full-length sequences)
    motifs : dict name -> ``(4, w)``, holding A and B
    a, b : motif names
    hits : FIMO hits (:func:`scan_library`) in which A's and B's overlaps are counted
    encoding, seed : see :func:`camformer.motifs.insertion_effects`

    Returns
    -------
    (DataFrame, DataFrame)
        :func:`camformer.motifs.insertion_effects`' rows with TF names (:func:`short_name`) and a
        ``placement`` column (``"alone"``, ``"A inside B"``, ``"apart"``), and the overlap
        configurations of A on B (most common first).
    """
    configurations = M.overlap_configurations(hits, a, b)
    forward = configurations[(configurations["strand_a"] == "+") & (configurations["strand_b"] == "+")]
    if forward.empty:
        raise ValueError(f"no overlapping forward-strand hits of {a} and {b} to place {a} inside {b}")
    pair = {a: motifs[a], b: motifs[b]}
    inside_label = f"{short_name(a)} inside {short_name(b)}"
    nested = M.insertion_effects(model, backgrounds, pair, {b: position, a: position + int(forward["offset"].iloc[0])},
                                 encoding=encoding, seed=seed)
    far = M.insertion_effects(model, backgrounds, pair, {b: position, a: apart}, encoding=encoding, seed=seed)
    table = pd.concat([
        nested.assign(placement=np.where(nested["motif1"] == nested["motif2"], "alone", inside_label)),
        far[far["motif1"] != far["motif2"]].assign(placement="apart"),
    ], ignore_index=True)
    table[["motif1", "motif2"]] = table[["motif1", "motif2"]].apply(lambda column: column.map(short_name))
    return table, configurations


def _key(name: str) -> str:
    return short_name(name).lower()


def hierarchy_facts(hierarchy: pd.DataFrame, *, scope: str, names: tuple[str, str] = ("IME1", "UME6"),
                    families_scope: str = "family means") -> dict:
    """The measured hierarchy's numbers, from :func:`camformer.motifs.motif_hierarchy` (its ``names``):
    for A = ``names[0]``, B = ``names[1]`` (keys in lower case), the differences against "neither"
    in ``scope`` (``a_effect``, ``b_effect``, ``a_b_effect``), ``a_b_vs_a``, the counts ``n_a``,
    ``n_b``, ``n_a_b``, ``n_neither``, and, where ``families_scope`` was computed,
    ``a_effect_families``, ``a_b_effect_families``, ``n_a_b_families``.
    """
    A, B = names
    a, b = _key(A), _key(B)
    view = hierarchy[hierarchy["scope"] == scope].set_index("group")
    alone, other, both = (view.loc[g] for g in (f"{A} without {B}", f"{B} without {A}", f"{A} and {B}"))
    facts = {
        f"{a}_effect": float(alone["difference"]), f"{b}_effect": float(other["difference"]),
        f"{a}_{b}_effect": float(both["difference"]),
        f"{a}_{b}_vs_{a}": float(view.loc[f"{A} and {B} vs {A} without {B}", "difference"]),
        f"n_{a}": int(alone["n"]), f"n_{b}": int(other["n"]), f"n_{a}_{b}": int(both["n"]),
        "n_neither": int(alone["n_ref"]),
    }
    families = hierarchy[hierarchy["scope"] == families_scope].set_index("group")
    if not families.empty:
        facts.update({f"{a}_effect_families": float(families.loc[f"{A} without {B}", "difference"]),
                      f"{a}_{b}_effect_families": float(families.loc[f"{A} and {B}", "difference"]),
                      f"n_{a}_{b}_families": int(families.loc[f"{A} and {B}", "n"])})
    return facts


def model_facts(compared: pd.DataFrame, *, names: tuple[str, str] = ("IME1", "UME6")) -> dict:
    """From :func:`predicted_vs_measured`: ``predicted_a_effect``, ``predicted_a_b_effect``, the
    same measured on those sequences (``measured_heldout_a_effect``, ``measured_heldout_a_b_effect``),
    and ``predicted_signs_agree`` (``"True"``/``"False"``, over the two groups)."""
    A, B = names
    a, b = _key(A), _key(B)
    groups = {f"{a}_effect": f"{A} without {B}", f"{a}_{b}_effect": f"{A} and {B}"}
    difference = compared["difference"]
    facts = {f"predicted_{key}": float(difference.loc[g, "predicted"]) for key, g in groups.items()}
    facts.update({f"measured_heldout_{key}": float(difference.loc[g, "measured"]) for key, g in groups.items()})
    facts["predicted_signs_agree"] = str(signs_agree(compared, groups.values()))
    return facts


def insertion_facts(insertion: pd.DataFrame, *, names: tuple[str, str] = ("IME1", "UME6")) -> dict:
    """From :func:`nested_insertion`: the mean changes ``insertion_a``, ``insertion_b``,
    ``insertion_a_inside_b``, ``insertion_a_b_apart``, the directions of A alone and A inside B,
    and ``insertion_b_context_lowers_a``: ``"True"`` if A inside B's interval lies wholly below A
    alone's."""
    A, B = (short_name(n) for n in names)
    a, b = A.lower(), B.lower()
    table = insertion.set_index(["motif1", "motif2", "placement"])
    one, other = table.loc[(A, A, "alone")], table.loc[(B, B, "alone")]
    inside, far = table.loc[(A, B, f"{A} inside {B}")], table.loc[(A, B, "apart")]
    return {
        f"insertion_{a}": float(one["mean_change"]), f"insertion_{b}": float(other["mean_change"]),
        f"insertion_{a}_inside_{b}": float(inside["mean_change"]), f"insertion_{a}_{b}_apart": float(far["mean_change"]),
        f"insertion_{a}_direction": one["direction"], f"insertion_{a}_inside_{b}_direction": inside["direction"],
        f"insertion_{b}_context_lowers_{a}": str(bool(inside["ci_high"] < one["ci_low"])),
    }
