"""Platform mode: a Tolokers-like crowd-work graph (attributes and one dense relation)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from accountrisk.synthetic import generate
from accountrisk.synthetic.crowd_graph import TARGET_MEAN_DEGREE

END = datetime(2026, 10, 1)
N = 4000
RATES = ("approved_rate", "skipped_rate", "expired_rate", "rejected_rate")


@pytest.fixture(scope="module")
def crowd(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("platform")
    generate(out, accounts=N, seed=1, mode="platform")
    return out


@pytest.fixture(scope="module")
def graph(crowd):
    """Account ids, link ends as account positions, banned flags, and per-account labels."""
    ids = pq.read_table(crowd / "accounts.parquet").column("account_id").to_pylist()
    pos = {a: i for i, a in enumerate(ids)}
    links = pq.read_table(crowd / "account_links.parquet")
    a = np.array([pos[x] for x in links.column("account_id").to_pylist()])
    b = np.array([pos[x] for x in links.column("other_account_id").to_pylist()])
    gt = pq.read_table(crowd / "ground_truth.parquet")
    banned = np.array(gt.column("is_fronted").to_pylist())
    label = np.full(len(ids), -1)
    for row in pq.read_table(crowd / "labels.parquet").to_pylist():
        label[pos[row["account_id"]]] = row["label"]
    return ids, a, b, banned, label


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC by ranks (ties share their mean rank)."""
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    mean_rank = first + (counts + 1) / 2.0
    ranks[order] = np.repeat(mean_rank, counts)
    n_pos, n_neg = positive.sum(), (~positive).sum()
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def test_banned_share_is_the_default(graph, crowd):
    _, _, _, banned, _ = graph
    assert banned.sum() == round(0.22 * N)
    summary = json.loads((crowd / "generation.json").read_text())
    assert summary["parameters"]["fronted_share"] == 0.22


def test_links_are_undirected_co_working_pairs_once_each(crowd, graph):
    _, a, b, _, _ = graph
    table = pq.read_table(crowd / "account_links.parquet")
    assert set(table.column("kind").to_pylist()) == {"co_worked"}
    assert table.column("linked_at").null_count == table.num_rows
    assert np.all(a != b)
    pairs = np.minimum(a, b) * N + np.maximum(a, b)
    assert len(np.unique(pairs)) == len(pairs)


def test_mean_degree_near_target_and_heavy_tailed(graph):
    _, a, b, _, _ = graph
    degree = np.bincount(a, minlength=N) + np.bincount(b, minlength=N)
    assert abs(degree.mean() / TARGET_MEAN_DEGREE - 1) <= 0.15
    assert degree.max() >= 4 * degree.mean()
    assert np.percentile(degree, 99) >= 3 * np.median(degree)


def test_one_giant_component(graph):
    sparse = pytest.importorskip("scipy.sparse")
    csgraph = pytest.importorskip("scipy.sparse.csgraph")
    _, a, b, _, _ = graph
    adjacency = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(N, N))
    _, component = csgraph.connected_components(adjacency, directed=False)
    assert np.bincount(component).max() >= 0.95 * N


def test_banned_workers_cluster(graph):
    _, a, b, banned, _ = graph
    neighbours_of_banned = np.concatenate([b[banned[a]], a[banned[b]]])
    assert banned[neighbours_of_banned].mean() >= 2.0 * banned.mean()


def test_half_the_accounts_labelled_at_random_over_the_last_year(crowd, graph):
    _, _, _, banned, label = graph
    labelled = label >= 0
    assert 0.45 <= labelled.mean() <= 0.55
    assert np.array_equal(label[labelled] == 1, banned[labelled])
    assert abs(banned[labelled].mean() - banned.mean()) < 0.03  # a random sample, not the suspects
    decided = pq.read_table(crowd / "labels.parquet").column("decided_at").to_pylist()
    assert len(set(decided)) == len(decided)
    assert min(decided) >= END - timedelta(days=366) and max(decided) < END
    assert (max(decided) - min(decided)).days > 300
    created = dict(zip(*(pq.read_table(crowd / "accounts.parquet").column(c).to_pylist()
                         for c in ("account_id", "created_at"))))
    labels = pq.read_table(crowd / "labels.parquet").to_pylist()
    assert all(r["decided_at"] > created[r["account_id"]] for r in labels)


def test_attributes_have_their_types_and_ranges(crowd):
    attrs = pq.read_table(crowd / "account_attributes.parquet")
    assert attrs.num_columns == 11
    for name in RATES:
        values = np.array(attrs.column(name).to_pylist())
        assert attrs.schema.field(name).type == "double" and values.min() >= 0 and values.max() <= 1
    assert attrs.schema.field("tasks_done").type == "int64"
    assert min(attrs.column("tasks_done").to_pylist()) >= 0
    assert set(attrs.column("education").to_pylist()) <= {
        "none", "basic", "middle", "high_school", "bachelor", "master", "phd"}
    assert attrs.schema.field("english_tested").type == "bool"
    accounts = pq.read_table(crowd / "accounts.parquet")
    age = [(END - c).days for c in accounts.column("created_at").to_pylist()]
    assert attrs.column("registration_age_days").to_pylist() == age


def _neighbour_mean(values: np.ndarray, known: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per account: mean of ``values`` over its neighbours where ``known`` (NaN without any)."""
    weighted = values * known
    total = np.bincount(a, weighted[b], N) + np.bincount(b, weighted[a], N)
    count = np.bincount(a, known[b].astype(float), N) + np.bincount(b, known[a].astype(float), N)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def test_no_attribute_gives_banned_workers_away_but_neighbours_inform(crowd, graph):
    _, a, b, banned, label = graph
    attrs = pq.read_table(crowd / "account_attributes.parquet")
    strengths = {}
    for name in attrs.column_names[1:]:
        values = np.array(attrs.column(name).to_pylist())
        values = np.unique(values, return_inverse=True)[1].astype(float)  # categories as codes
        strengths[name] = abs(auc(values, banned) - 0.5) + 0.5
    assert max(strengths.values()) < 0.72, strengths
    assert min(strengths.values()) < 0.53, strengths  # some attributes are pure noise
    unlabelled = label < 0
    neighbour_ban = _neighbour_mean((label == 1).astype(float), label >= 0, a, b)
    scored = unlabelled & ~np.isnan(neighbour_ban)
    assert auc(neighbour_ban[scored], banned[scored]) > 0.7


def test_own_attributes_rank_moderately_and_neighbour_means_add(crowd, graph):
    """A model on own attributes ranks banned workers only moderately well; adding the
    neighbours' attribute means helps clearly (trained on labels, scored on the rest)."""
    lightgbm = pytest.importorskip("lightgbm")
    _, a, b, banned, label = graph
    attrs = pq.read_table(crowd / "account_attributes.parquet")
    own = np.column_stack([
        np.unique(np.array(attrs.column(name).to_pylist()), return_inverse=True)[1]
        if name == "education" else np.array(attrs.column(name).to_pylist(), float)
        for name in attrs.column_names[1:]
    ])
    everyone = np.ones(N, bool)
    neighbours = np.column_stack([_neighbour_mean(column, everyone, a, b) for column in own.T])
    train, test = label >= 0, label < 0
    scores = {}
    for name, features in (("own", own), ("with_neighbours", np.column_stack([own, neighbours]))):
        model = lightgbm.LGBMClassifier(n_estimators=200, learning_rate=0.05, num_leaves=15,
                                        min_child_samples=40, random_state=0, n_jobs=1, verbose=-1)
        model.fit(features[train], label[train])
        scores[name] = auc(model.predict_proba(features[test])[:, 1], banned[test])
    assert 0.65 <= scores["own"] <= 0.8, scores
    assert scores["with_neighbours"] >= scores["own"] + 0.03, scores
