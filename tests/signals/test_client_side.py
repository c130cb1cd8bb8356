"""Contract 1.1 client-side signals on small hand-written tables."""

from datetime import datetime

from tests.conftest import compute, make_tables

BOILER_OPEN = "Hello, I have read your job description carefully and I can help you."
BOILER_CLOSE = "Looking forward to hearing from you, best regards."
TEMPLATE = ("senior react developer with eight years building payment dashboards for "
            "fintech startups using typescript graphql and aws lambda services")


def contract(cid, client, freelancer, billed, started=datetime(2025, 4, 1), ended=None):
    return {"contract_id": cid, "client_account_id": client, "freelancer_account_id": freelancer,
            "billed_usd": billed, "started_at": started, "ended_at": ended}


def test_self_dealing_share_counts_linked_clients_by_billed_amount():
    tables = make_tables(
        payout_methods=[{"account_id": "f", "payout_token": "p1"},
                        {"account_id": "c1", "payout_token": "p1"}],  # c1 shares f's payout
        contracts=[contract("k1", "c1", "f", 300.0), contract("k2", "c2", "f", 100.0),
                   contract("k3", "c2", "g", 50.0),
                   # started after T: not yet known
                   contract("k4", "c1", "g", 900.0, started=datetime(2026, 2, 1))])
    f = compute(tables, "2025-12-01")
    assert f["f"]["client_self_dealing_billed_ratio"] == 0.75
    assert f["f"]["client_self_dealing_client_count"] == 1
    assert f["g"]["client_self_dealing_billed_ratio"] == 0.0
    # An account that was never hired has no billed amount: unknown, not zero.
    assert f["c1"]["client_self_dealing_billed_ratio"] is None
    assert f["c1"]["client_self_dealing_client_count"] == 0


def test_unbilled_contracts_weigh_one_each():
    tables = make_tables(
        payout_methods=[{"account_id": "f", "payout_token": "p1"},
                        {"account_id": "c1", "payout_token": "p1"}],
        contracts=[contract("k1", "c1", "f", None), contract("k2", "c2", "f", None),
                   contract("k3", "c3", "f", 0.0), contract("k4", "c3", "f", 0.0)])
    assert compute(tables)["f"]["client_self_dealing_billed_ratio"] == 0.25


def test_clients_of_confirmed_accounts_and_of_linked_groups():
    tables = make_tables(
        # a and b share a device: one link group; the client hires both
        sessions=[{"account_id": "a", "device_token": "d1"},
                  {"account_id": "b", "device_token": "d1"}],
        contracts=[contract("k1", "c", "a", 100.0), contract("k2", "c", "b", 100.0),
                   contract("k3", "c", "x", 100.0), contract("k4", "h", "x", 300.0)],
        labels=[{"account_id": "b", "label": 1, "decided_at": datetime(2025, 6, 1)}])
    f = compute(tables, "2025-12-01")
    assert f["a"]["client_group_overlap_billed_ratio"] == 1.0
    assert f["x"]["client_group_overlap_billed_ratio"] == 0.0
    # c hired b, confirmed before T: a quarter of x's pay and all of a's comes from c
    assert f["x"]["client_confirmed_hire_billed_ratio"] == 0.25
    assert f["a"]["client_confirmed_hire_billed_ratio"] == 1.0
    # b's own label never counts for b: c's other hires (a, x) are not confirmed
    assert f["b"]["client_confirmed_hire_billed_ratio"] == 0.0
    # c hires a, b (linked to each other) and x: two of three hires are linked
    assert abs(f["x"]["client_linked_hires_max_ratio"] - 2 / 3) < 1e-12
    assert f["x"]["client_linked_hires_max_ratio"] == f["a"]["client_linked_hires_max_ratio"]


def test_proposal_templates_count_copies_not_boilerplate():
    def proposal(pid, account, body):
        return {"proposal_id": pid, "account_id": account,
                "cover_text": f"{BOILER_OPEN} {body} {BOILER_CLOSE}"}

    own = [f"my own words about project number {i} and tools like item{i} and thing{i} "
           f"done for client{i} in city{i}" for i in range(60)]
    tables = make_tables(proposals=(
        [proposal("t1", "r1", TEMPLATE), proposal("t2", "r2", TEMPLATE.replace("eight", "nine")),
         proposal("t3", "r3", TEMPLATE + " available now")]
        # 60 honest freelancers share only the boilerplate (far more than 50 texts)
        + [proposal(f"h{i}", f"h{i}", own[i]) for i in range(60)]))
    f = compute(tables)
    assert f["r1"]["proposal_template_shared_account_count"] == 2
    assert f["r2"]["proposal_template_shared_account_count"] == 2
    assert f["h0"]["proposal_template_shared_account_count"] == 0


def test_proposal_templates_for_a_few_accounts_see_their_neighbours_neighbours():
    """A pass for a few accounts searches only their texts' pairs and one hop further, and
    must give what the whole search gives: r1's text A is near B (r2's), and B near C, a
    text 25 accounts send, so B is a common template and the pair A-B counts for nothing."""
    def words(prefix, first, last):
        return " ".join(f"{prefix}{i}" for i in range(first, last + 1))

    a = f"{words('w', 1, 15)} {words('a', 1, 5)}"  # A ~ B (13 of 23 shingles), A !~ C
    b = words("w", 1, 20)
    c = f"{words('c', 1, 5)} {words('w', 6, 20)}"  # C ~ B
    rows = ([("pa", "r1", a), ("pb", "r2", b), ("pd", "r3", TEMPLATE),
             ("pe", "r4", TEMPLATE + " available now")]
            + [(f"pc{i}", f"x{i}", c) for i in range(25)]
            + [(f"ph{i}", f"h{i}", f"honest words number {i} about item{i} and tool{i}")
               for i in range(40)])
    tables = make_tables(proposals=[{"proposal_id": p, "account_id": who, "cover_text": text}
                                    for p, who, text in rows])
    whole = compute(tables)
    few = compute(tables, only=["r1", "r3"])
    assert set(few) == {"r1", "r3"}
    assert whole["r1"]["proposal_template_shared_account_count"] == 0
    assert whole["r3"]["proposal_template_shared_account_count"] == 1
    assert whole["r2"]["proposal_template_shared_account_count"] == 0
    for account in few:
        assert few[account] == whole[account]


def test_rating_rings_linked_authors_and_fast_five_stars():
    tables = make_tables(
        payout_methods=[{"account_id": "f", "payout_token": "p1"},
                        {"account_id": "c1", "payout_token": "p1"}],
        contracts=[contract("k1", "c1", "f", 50.0, ended=datetime(2025, 4, 3)),
                   contract("k2", "c2", "f", 500.0, ended=datetime(2025, 6, 1)),
                   contract("k3", "c3", "f", 500.0, ended=datetime(2025, 4, 2))],
        reviews=[{"review_id": "r1", "contract_id": "k1", "author_account_id": "c1",
                  "subject_account_id": "f", "rating": 5.0},
                 {"review_id": "r2", "contract_id": "k2", "author_account_id": "c2",
                  "subject_account_id": "f", "rating": 5.0, "created_at": datetime(2025, 6, 2)},
                 {"review_id": "r3", "contract_id": "k3", "author_account_id": "c3",
                  "subject_account_id": "f", "rating": 4.0},
                 {"review_id": "r4", "contract_id": "k2", "author_account_id": "f",
                  "subject_account_id": "c2", "rating": 5.0, "created_at": datetime(2026, 3, 1)}])
    f = compute(tables, "2025-12-01")
    assert abs(f["f"]["review_linked_author_ratio"] - 1 / 3) < 1e-12
    assert abs(f["f"]["review_short_contract_five_star_ratio"] - 1 / 3) < 1e-12
    assert f["f"]["review_received_count"] == 3
    assert f["c2"]["review_received_count"] == 0  # r4 is after T


def test_a_version_1_folder_leaves_client_side_features_missing():
    f = compute(make_tables(sessions=[{"account_id": "a"}]))
    for name in ("client_self_dealing_billed_ratio", "proposal_template_shared_account_count",
                 "review_linked_author_ratio"):
        assert f["a"][name] is None
