"""POST /v1/score over real HTTP: the same results as RiskScorer.score_features, in JSON
and in Arrow; bad rows get 422 naming the column and row."""

from __future__ import annotations

import json
import math

import pyarrow as pa
import pytest

from accountrisk.scoring.models import AccountScore
from accountrisk.scoring.scorer import RiskScorer
from tests.service.conftest import T

ARROW = "application/vnd.apache.arrow.stream"


@pytest.fixture(scope="module")
def scorer(trained):
    return RiskScorer.load(trained["model"])


def _stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def test_json_scores_equal_score_features_reasons_included(client, trained, scorer):
    rows = trained["features"].slice(0, 40)
    answer = client.post("/v1/score", json={"as_of": T, "rows": rows.to_pylist()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = scorer.score_features(rows, as_of=T, explain=True)
    assert body["model_version"] == scorer.model_version
    got = [AccountScore.model_validate(s) for s in body["scores"]]
    assert got == expected.scores  # order of the rows, scores, bands, every reason
    assert [s.account_id for s in got] == rows.column("account_id").to_pylist()
    assert any(s.reasons for s in got)


def test_json_explain_band_matches_score_features(client, trained, scorer):
    rows = trained["features"]
    answer = client.post("/v1/score", json={"as_of": T, "rows": rows.to_pylist(),
                                            "explain": "watch"})
    assert answer.status_code == 200, answer.text
    expected = scorer.score_features(rows, as_of=T, explain="watch")
    got = [AccountScore.model_validate(s) for s in answer.json()["scores"]]
    assert got == expected.scores
    assert 0 < sum(1 for s in got if s.reasons) < len(got)


def test_arrow_in_and_out_equals_score_features(client, trained, scorer):
    rows = trained["features"]
    answer = client.post("/v1/score", content=_stream(rows), params={"as_of": T},
                         headers={"Content-Type": ARROW, "Accept": ARROW})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == ARROW
    table = pa.ipc.open_stream(answer.content).read_all()
    expected = scorer.score_features(rows, as_of=T, explain=True).frame
    assert table.schema.metadata[b"model_version"] == scorer.model_version.encode()
    assert table.replace_schema_metadata(None).equals(expected)


def test_arrow_in_json_out(client, trained, scorer):
    rows = trained["features"].slice(10, 5)
    answer = client.post("/v1/score", content=_stream(rows),
                         params={"as_of": T, "explain": "false"},
                         headers={"Content-Type": ARROW})
    assert answer.status_code == 200, answer.text
    got = [AccountScore.model_validate(s) for s in answer.json()["scores"]]
    assert got == scorer.score_features(rows, as_of=T, explain=False).scores


def _rows(trained, n=3):
    return trained["features"].slice(0, n).to_pylist()


def test_nan_is_422_naming_column_row_and_account(client, trained, scorer):
    rows = _rows(trained)
    feature = next(f for f in scorer.features if f not in scorer.categories)
    rows[2][feature] = math.nan
    answer = client.post("/v1/score", content=json.dumps({"as_of": T, "rows": rows}),
                         headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    body = answer.json()
    assert set(body) == {"error", "fix"}
    assert f"column {feature}" in body["error"] and "rows 2" in body["error"]
    assert rows[2]["account_id"] in body["error"]


def test_text_in_a_numeric_feature_is_422_naming_column_and_row(client, trained, scorer):
    rows = _rows(trained)
    feature = next(f for f in scorer.features if f not in scorer.categories)
    rows[1][feature] = "twelve"
    answer = client.post("/v1/score", json={"as_of": T, "rows": rows})
    assert answer.status_code == 422
    assert f"column {feature}" in answer.json()["error"]
    assert "rows 1 " in answer.json()["error"] and "'twelve'" in answer.json()["error"]


def test_wrong_shapes_are_422_without_traceback(client, trained):
    rows = _rows(trained)
    rows[0]["session_count"] = {"nested": 1}
    cases = [
        ({"as_of": T, "rows": rows}, "row 0, column session_count"),
        ({"as_of": "yesterday", "rows": _rows(trained)}, "as_of"),
        ({"rows": _rows(trained)}, "as_of"),
        ({"as_of": T, "rows": [{"account_id": "a1"}]}, "lack"),
        ({"as_of": T, "rows": _rows(trained), "explain": "no-such-band"}, "no-such-band"),
        ({"as_of": T, "rows": _rows(trained)[:1] * 2}, "more than one row"),
    ]
    for body, named in cases:
        answer = client.post("/v1/score", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert named in answer.json()["error"], answer.text
        assert "Traceback" not in answer.text
    broken = client.post("/v1/score", content=b"{not json",
                         headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "Invalid JSON" in broken.json()["error"]
    arrow = client.post("/v1/score", content=b"not arrow", params={"as_of": T},
                        headers={"Content-Type": ARROW})
    assert arrow.status_code == 422 and "Arrow IPC stream" in arrow.json()["error"]
    csv = client.post("/v1/score", content=b"a,b", headers={"Content-Type": "text/csv"})
    assert csv.status_code == 415


def test_empty_rows_answer_no_scores(client, scorer):
    answer = client.post("/v1/score", json={"as_of": T, "rows": []})
    assert answer.status_code == 200
    assert answer.json() == {"model_version": scorer.model_version, "scores": []}


def test_openapi_schema_is_the_plugins_models(client):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    assert {"AccountScore", "Reason", "Evidence", "ScoreResponse"} <= set(components)
    assert set(components["AccountScore"]["properties"]) == set(AccountScore.model_fields)
    body = schema["paths"]["/v1/score"]["post"]["requestBody"]["content"]
    assert {"application/json", ARROW} <= set(body)
