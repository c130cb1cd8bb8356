"""Text made in bulk: display names, portfolio titles and descriptions, links as typed.

Texts are word-index sequences (flat ``int32`` words + ``int64`` offsets) over one vocabulary,
so copies can be edited word by word (swap, replace, insert, delete) before rendering.
Rendering is vectorized with Arrow compute; no Python loop per row except edits of copies.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import vocab
from .randomness import choice_index

_SLOT_WORDS: dict[str, tuple[str, ...]] = {
    "verb": vocab.VERBS,
    "verb_l": tuple(v.lower() for v in vocab.VERBS),
    "adj": vocab.ADJECTIVES,
    "adj_t": tuple(a[:1].upper() + a[1:] for a in vocab.ADJECTIVES),
    "product": vocab.PRODUCTS,
    "product_t": tuple(" ".join(w[:1].upper() + w[1:] for w in p.split(" ")) for p in vocab.PRODUCTS),
    "industry": vocab.INDUSTRIES,
    "industry_t": tuple(i[:1].upper() + i[1:] for i in vocab.INDUSTRIES),
    "tech": vocab.TECHS,
    "metric": vocab.METRICS,
    "result": vocab.RESULTS,
    "client": vocab.CLIENTS,
}
SLOTS = tuple(_SLOT_WORDS)
_INSERTABLE = ("very", "fully", "custom", "new", "complete", "professional", "clean", "fast")


def _build_vocabulary():
    words: list[str] = []
    index: dict[str, int] = {}

    def add(word: str) -> int:
        if word not in index:
            index[word] = len(words)
            words.append(word)
        return index[word]

    slot_start, slot_size = [], []
    for name in SLOTS:
        slot_start.append(len(words))
        for w in _SLOT_WORDS[name]:  # slot words are stored once per slot, in order
            words.append(w)
        slot_size.append(len(_SLOT_WORDS[name]))
    for w in _INSERTABLE + ("a", "an"):
        add(w)

    def encode(templates: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        rows = []
        for tpl in templates:
            codes = []
            for tok in tpl.split(" "):
                m = re.fullmatch(r"\{(\w+)\}", tok)
                codes.append(-2 - SLOTS.index(m.group(1)) if m else add(tok))
            rows.append(codes)
        width = max(len(r) for r in rows)
        mat = np.full((len(rows), width), -1, np.int32)
        for i, r in enumerate(rows):
            mat[i, : len(r)] = r
        return mat, np.array([len(r) for r in rows], np.int64)

    parts = {
        "opener": encode(vocab.OPENERS),
        "closer": encode(vocab.CLOSERS),
        "sentence": encode(vocab.SENTENCES),
        "title": encode(vocab.TITLES),
    }
    return (
        words,
        np.array(slot_start, np.int64),
        np.array(slot_size, np.int64),
        parts,
        np.array([index[w] for w in _INSERTABLE], np.int32),
    )


WORDS, SLOT_START, SLOT_SIZE, TEMPLATES, INSERTABLE = _build_vocabulary()
N_WORDS = len(WORDS)
_PUNCT = np.array([w in {".", ",", ";", ":", "!"} for w in WORDS])
_VOWEL = np.array([w[:1].lower() in "aeiou" for w in WORDS])
_A, _AN = WORDS.index("a"), WORDS.index("an")
# each word as rendered first in a text (index w) or after a space (index w + N_WORDS)
_RENDERED = pa.array(WORDS + [w if p else " " + w for w, p in zip(WORDS, _PUNCT)], type=pa.string())


def _expand(
    tpl_mat: np.ndarray, tpl_len: np.ndarray, seg_tpl: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Word indices of segments (templates with their slots filled at random), concatenated."""
    lens = tpl_len[seg_tpl]
    seg = np.repeat(np.arange(len(seg_tpl)), lens)
    pos = np.arange(len(seg)) - np.repeat(np.cumsum(lens) - lens, lens)
    code = tpl_mat[seg_tpl[seg], pos].astype(np.int64)
    slot = code <= -2
    cat = -code[slot] - 2
    code[slot] = SLOT_START[cat] + (rng.random(int(slot.sum())) * SLOT_SIZE[cat]).astype(np.int64)
    return code.astype(np.int32)


def descriptions(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` fresh descriptions: optional boilerplate opener, 1-3 sentences, optional closer."""
    o_mat, o_len = TEMPLATES["opener"]
    c_mat, c_len = TEMPLATES["closer"]
    s_mat, s_len = TEMPLATES["sentence"]
    n_o, n_c = len(o_len), len(c_len)
    # one template table: openers, then sentences, then closers
    mat = np.full((n_o + len(s_len) + n_c, max(o_mat.shape[1], s_mat.shape[1], c_mat.shape[1])), -1, np.int32)
    mat[:n_o, : o_mat.shape[1]] = o_mat
    mat[n_o : n_o + len(s_len), : s_mat.shape[1]] = s_mat
    mat[n_o + len(s_len) :, : c_mat.shape[1]] = c_mat
    lens = np.concatenate([o_len, s_len, c_len])
    grid = np.full((n, 5), -1, np.int64)
    grid[:, 0] = np.where(rng.random(n) < 0.3, rng.integers(0, n_o, n), -1)
    n_sent = 1 + choice_index(rng, (45, 40, 15), n)
    for j in range(3):
        grid[:, 1 + j] = np.where(n_sent > j, n_o + rng.integers(0, len(s_len), n), -1)
    grid[:, 4] = np.where(rng.random(n) < 0.4, n_o + len(s_len) + rng.integers(0, n_c, n), -1)
    seg_tpl = grid[grid >= 0]
    words = _expand(mat, lens, seg_tpl, rng)
    per_item = np.where(grid >= 0, lens[np.maximum(grid, 0)], 0).sum(axis=1)
    return words, np.concatenate([[0], np.cumsum(per_item)]).astype(np.int64)


def titles(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` fresh short titles."""
    mat, lens = TEMPLATES["title"]
    seg_tpl = rng.integers(0, len(lens), n)
    words = _expand(mat, lens, seg_tpl, rng)
    return words, np.concatenate([[0], np.cumsum(lens[seg_tpl])]).astype(np.int64)


def edit_words(words: np.ndarray, n_edits: int, rng: np.random.Generator) -> np.ndarray:
    """A lightly edited copy: ``n_edits`` word swaps, replacements, insertions or deletions."""
    w = list(words.tolist())
    for _ in range(n_edits):
        if len(w) < 3:
            break
        op = int(rng.integers(0, 4))
        i = int(rng.integers(0, len(w) - 1))
        if op == 0:
            w[i], w[i + 1] = w[i + 1], w[i]
        elif op == 1:
            slot = int(rng.integers(0, len(SLOTS)))
            w[i] = int(SLOT_START[slot] + rng.integers(0, SLOT_SIZE[slot]))
        elif op == 2:
            w.insert(i, int(INSERTABLE[rng.integers(0, len(INSERTABLE))]))
        else:
            del w[i]
    return np.array(w, np.int32)


def render(words: np.ndarray, offsets: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Word sequences as strings: words spaced, no space before punctuation, "a" -> "an" before vowels."""
    words = np.asarray(words, np.int64).copy()
    last = np.zeros(len(words), bool)
    last[offsets[1:][offsets[1:] > offsets[:-1]] - 1] = True
    nxt = np.append(words[1:], 0)
    words[(words == _A) & ~last & np.take(_VOWEL, nxt)] = _AN
    first = np.zeros(len(words), bool)
    first[offsets[:-1][offsets[1:] > offsets[:-1]]] = True
    codes = words + N_WORDS * (~first & ~np.take(_PUNCT, words))
    lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), _RENDERED.take(pa.array(codes)))
    text = pc.binary_join(lists, "")
    if valid is not None:
        text = pc.if_else(pa.array(np.asarray(valid, bool)), text, pa.nulls(len(text), pa.string()))
    return text


def pick(values: tuple[str, ...] | list[str], idx: np.ndarray) -> pa.Array:
    """Strings ``values[idx]`` as an Arrow array."""
    return pa.array(list(values), type=pa.string()).take(pa.array(np.asarray(idx, np.int64)))


def choose(idx: np.ndarray, *options: pa.Array) -> pa.Array:
    """Per row, the string of option ``idx[row]``."""
    return pc.choose(pa.array(np.asarray(idx, np.int8)), *options)


def as_typed(canonical: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Links as people type them: with or without scheme and www., trailing slash, odd case."""
    n = len(canonical)
    scheme = choose(
        choice_index(rng, (55, 10, 35), n),
        *[pa.array([s] * n, pa.string()) for s in ("https://", "http://", "")],
    )
    www = choose((rng.random(n) < 0.2).astype(np.int8), pa.array([""] * n), pa.array(["www."] * n))
    slash = choose((rng.random(n) < 0.3).astype(np.int8), pa.array([""] * n), pa.array(["/"] * n))
    url = pc.binary_join_element_wise(scheme, www, canonical, slash, "")
    case = choice_index(rng, (92, 5, 3), n)
    url = pc.if_else(pa.array(case == 1), pc.utf8_capitalize(url), url)
    return pc.if_else(pa.array(case == 2), pc.utf8_upper(url), url)


def slugs(n: int, rng: np.random.Generator) -> pa.Array:
    """Project slugs such as ``fintech-dashboard`` or ``react-booking-system``."""
    first = pick(
        [w.lower().replace(" ", "-").replace(".", "") for w in vocab.INDUSTRIES + vocab.TECHS],
        rng.integers(0, len(vocab.INDUSTRIES) + len(vocab.TECHS), n),
    )
    second = pick(
        [p.lower().replace(" ", "-") for p in vocab.PRODUCTS], rng.integers(0, len(vocab.PRODUCTS), n)
    )
    return pc.binary_join_element_wise(first, second, "-")
