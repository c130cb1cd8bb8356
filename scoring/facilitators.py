"""The collaborators behind the fronts: entities that serve many risky accounts.

An *entity* is something several accounts use or are paid by, as of T: a payout
destination, a residential IP address, an ASN of residential addresses (a laptop farm's
provider), a device, or a client account (the contracts it gave). Each is ranked by its
**excess risk mass**: the sum, over the accounts it serves, of their risk (the calibrated
score; 1 for an account confirmed fraudulent before T, 0 for one cleared) minus what the
same number of accounts drawn at random would carry (count x the population's mean risk).
A hub of honest accounts (an agency's shared account, a coworking IP, a payroll provider, a
big ISP's ASN) serves many accounts of ordinary risk, so its excess stays near zero
whatever its size; a facilitator's few accounts are each risky, so it rises. The *honest
share* is the share of its accounts in no review band and not confirmed; the ranking key,
``rank_score``, is the excess risk times the risky share (1 - honest share): a residential
ISP whose half-million customers include some farms carries excess risk, but its risk is
diluted among honest customers, where a facilitator's payout account serves little else.

Only the work directory's DuckDB database is read (contract tables, loaded and validated).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field

from .evidence_tools import confirmed_sql, rows, shorten_token, tables

EntityKind = Literal["payout", "ip", "asn", "device", "client"]
KINDS: tuple[str, ...] = ("payout", "ip", "asn", "device", "client")
LISTED_ACCOUNTS = 20
MIN_ACCOUNTS = 2
_SHORT = {"payout": "pay", "ip": "ip", "device": "dev"}
_KIND_WORDS = {"payout": "payout destination", "ip": "residential IP", "asn": "network",
               "device": "device", "client": "client"}


def _shown(kind: str, key: str) -> str:
    """An entity as a reviewer sees it: a shortened token, AS<number> or an account id."""
    if kind in _SHORT:
        return shorten_token(key, _SHORT[kind])
    return f"AS{key}" if kind == "asn" else key


class ServedAccount(BaseModel):
    """An account an entity serves, with its score as of T."""

    model_config = ConfigDict(frozen=True)

    account_id: str
    score: float
    band: str = Field(description="its review band; empty when in none")
    is_confirmed: bool = Field(False, description="confirmed fraudulent before T")
    is_cleared: bool = Field(False, description="cleared by review before T")


class Facilitator(BaseModel):
    """An entity that serves several accounts, and the risk they carry."""

    model_config = ConfigDict(frozen=True)

    kind: EntityKind
    entity: str = Field(description="as a reviewer sees it: a shortened token, AS<number>, or "
                                    "the client's account id")
    entity_key: str = Field(description="the whole key (the marketplace's own token, ASN or "
                                        "account id), for a referral file")
    account_count: int = Field(description="accounts it serves before T")
    banded_account_count: int = Field(description="of those, in a review band")
    confirmed_count: int
    cleared_count: int
    risk_mass: float = Field(description="excess risk: sum of its accounts' risk minus the "
                                         "population's mean risk times their count")
    rank_score: float = Field(description="the ranking key: risk_mass x (1 - honest_share)")
    mean_score: float
    honest_share: float = Field(description="share of its accounts in no band and not "
                                            "confirmed")
    first_seen: datetime | None = Field(description="earliest use before T")
    money_usd: float | None = Field(None, description="payouts it received (payout) or the "
                                                      "amount it billed (client), before T")
    accounts: list[ServedAccount] = Field(default_factory=list,
                                          description=f"riskiest first, at most "
                                                      f"{LISTED_ACCOUNTS}")

    def summary(self) -> str:
        """One line for a console or a case report."""
        what = _KIND_WORDS[self.kind]
        text = (f"{what} {self.entity} serves {self.account_count} accounts, "
                f"{self.confirmed_count} confirmed, {self.banded_account_count} in a review "
                f"band (excess risk {self.risk_mass:.2f}; honest share {self.honest_share:.0%})")
        if self.money_usd:
            verb = "received" if self.kind == "payout" else "billed"
            text += f"; {verb} ${self.money_usd:,.0f}"
        return text


def _usage_sql(present: set[str], kinds: tuple[str, ...]) -> str:
    """(kind, entity_key, account_id, first_at, money) for every entity use before $t."""
    parts = []
    if "payout" in kinds and "payout_methods" in present:
        money = ("SELECT account_id, payout_token, min(paid_at) AS first_at, sum(amount_usd) "
                 "AS money FROM payouts WHERE paid_at < $t GROUP BY ALL"
                 if "payouts" in present else
                 "SELECT NULL::VARCHAR AS account_id, NULL::VARCHAR AS payout_token, "
                 "NULL::TIMESTAMP AS first_at, NULL::DOUBLE AS money WHERE FALSE")
        parts.append(f"""
            SELECT 'payout' AS kind, payout_token AS entity_key, account_id,
                   min(first_at) AS first_at, sum(money) AS money
            FROM (SELECT account_id, payout_token, added_at AS first_at, NULL::DOUBLE AS money
                  FROM payout_methods WHERE added_at < $t
                  UNION ALL {money}) AS u
            GROUP BY ALL""")
    if "sessions" in present:
        residential = "coalesce(ip_type, 'residential') = 'residential'"
        if "ip" in kinds:
            parts.append(f"""SELECT 'ip' AS kind, ip_token AS entity_key, account_id,
                min(started_at) AS first_at, NULL::DOUBLE AS money FROM sessions
                WHERE started_at < $t AND {residential} GROUP BY ALL""")
        if "asn" in kinds:
            parts.append(f"""SELECT 'asn' AS kind, CAST(asn AS VARCHAR) AS entity_key,
                account_id, min(started_at) AS first_at, NULL::DOUBLE AS money FROM sessions
                WHERE started_at < $t AND asn IS NOT NULL AND {residential} GROUP BY ALL""")
        if "device" in kinds:
            parts.append("""SELECT 'device' AS kind, device_token AS entity_key, account_id,
                min(started_at) AS first_at, NULL::DOUBLE AS money FROM sessions
                WHERE started_at < $t AND device_token IS NOT NULL GROUP BY ALL""")
    if "client" in kinds and "contracts" in present:
        parts.append("""SELECT 'client' AS kind, client_account_id AS entity_key,
            freelancer_account_id AS account_id, min(started_at) AS first_at,
            sum(billed_usd) AS money FROM contracts
            WHERE started_at < $t AND client_account_id <> freelancer_account_id
            GROUP BY ALL""")
    return " UNION ALL ".join(parts)


def rank_entities(con: Any, scores: pa.Table, as_of: datetime, *, top: int = 50,
                  kinds: tuple[str, ...] = KINDS) -> list[Facilitator]:
    """The ``top`` entities by ``rank_score`` (see the module). ``scores``: ``account_id``,
    ``score``, ``band`` of every account as of ``as_of`` (a :class:`ScoreBatch` frame); ``con``: the
    work directory's DuckDB connection with the contract tables."""
    present = tables(con)
    usage = _usage_sql(present, kinds)
    if not usage:
        return []
    labels = ("""SELECT account_id, label FROM (
                   SELECT account_id, label, row_number() OVER (
                       PARTITION BY account_id ORDER BY decided_at DESC, label DESC) AS pick
                   FROM labels WHERE decided_at < $t) AS l WHERE pick = 1"""
              if "labels" in present else
              "SELECT NULL::VARCHAR AS account_id, NULL::TINYINT AS label WHERE FALSE")
    con.register("_facilitator_scores", scores.select(["account_id", "score", "band"]))
    try:
        found = rows(con, f"""
        WITH risk AS (
            SELECT s.account_id, s.score, s.band, d.label,
                   CASE WHEN d.label = 1 THEN 1.0 WHEN d.label = 0 THEN 0.0
                        ELSE s.score END AS risk
            FROM _facilitator_scores AS s LEFT JOIN ({labels}) AS d USING (account_id)
        ),
        base AS (SELECT avg(risk) AS mean_risk FROM risk),
        used AS ({usage}),
        served AS (
            SELECT u.kind, u.entity_key, u.account_id, u.first_at, u.money, r.score, r.band,
                   r.label, r.risk
            FROM used AS u JOIN risk AS r USING (account_id)
        ),
        ranked AS (
            SELECT kind, entity_key, count(*) AS account_count,
                   count(*) FILTER (WHERE band <> '') AS banded_account_count,
                   count(*) FILTER (WHERE label = 1) AS confirmed_count,
                   count(*) FILTER (WHERE label = 0) AS cleared_count,
                   sum(risk) - count(*) * (SELECT mean_risk FROM base) AS risk_mass,
                   avg(score) AS mean_score,
                   avg(CASE WHEN band = '' AND coalesce(label, 0) = 0 THEN 1.0 ELSE 0.0 END)
                       AS honest_share,
                   min(first_at) AS first_seen, sum(money) AS money_usd
            FROM served GROUP BY kind, entity_key HAVING count(*) >= {MIN_ACCOUNTS}
        ),
        top AS (
            SELECT *, risk_mass * (1 - honest_share) AS rank_score FROM ranked
            ORDER BY rank_score DESC, kind, entity_key LIMIT {int(top)}
        )
        SELECT r.*, s.account_id, s.score, s.band, s.label
        FROM top AS r JOIN served AS s USING (kind, entity_key)
        ORDER BY r.rank_score DESC, r.kind, r.entity_key, s.risk DESC, s.account_id""",
                     {"t": as_of})
    finally:
        con.unregister("_facilitator_scores")
    return _assemble(found)


def _assemble(found: list[dict]) -> list[Facilitator]:
    out: list[Facilitator] = []
    current: dict | None = None
    listed: list[ServedAccount] = []

    def close() -> None:
        if current is not None:
            kind = current["kind"]
            key = str(current["entity_key"])
            out.append(Facilitator(
                kind=kind, entity=_shown(kind, key), entity_key=key,
                account_count=int(current["account_count"]),
                banded_account_count=int(current["banded_account_count"]),
                confirmed_count=int(current["confirmed_count"]),
                cleared_count=int(current["cleared_count"]),
                risk_mass=float(current["risk_mass"]), rank_score=float(current["rank_score"]),
                mean_score=float(current["mean_score"]),
                honest_share=float(current["honest_share"]), first_seen=current["first_seen"],
                money_usd=(None if current["money_usd"] is None
                           else float(current["money_usd"])),
                accounts=listed[:]))

    for r in found:
        if current is None or (r["kind"], r["entity_key"]) != (current["kind"],
                                                                current["entity_key"]):
            close()
            current, listed[:] = r, []
        if len(listed) < LISTED_ACCOUNTS:
            listed.append(ServedAccount(account_id=r["account_id"], score=float(r["score"]),
                                        band=r["band"] or "", is_confirmed=r["label"] == 1,
                                        is_cleared=r["label"] == 0))
    close()
    return out


def facilitators_table(found: list[Facilitator]) -> pa.Table:
    """One row per entity, for a CSV/Parquet referral file (accounts as a ';' list)."""
    return pa.Table.from_pylist([
        {**f.model_dump(exclude={"accounts"}),
         "accounts": ";".join(a.account_id for a in f.accounts)} for f in found])


def rank_facilitators(scorer: Any, data_dir: Any, as_of: str | datetime, *,
                      workdir: Any = "accountrisk-work", top: int = 50,
                      kinds: tuple[str, ...] = KINDS, memory_limit: str | None = None
                      ) -> list[Facilitator]:
    """Validate and load ``data_dir`` into ``workdir`` (reused when already loaded), score
    every account as of ``as_of`` with ``scorer`` (a :class:`RiskScorer`), and rank the
    entities that serve them (:func:`rank_entities`)."""
    from accountrisk.features.engines import open_engine
    from accountrisk.features.errors import UsageError

    from .evidence_tools import as_of_moment, connection

    unknown = sorted(set(kinds) - set(KINDS))
    if unknown or not kinds:
        raise UsageError(f"unknown entity kind(s) {unknown}: choose among {', '.join(KINDS)}")
    if top < 1:
        raise UsageError(f"top must be at least 1; got {top}")
    moment = as_of_moment(as_of)
    with open_engine("duckdb", data_dir=data_dir, workdir=workdir,
                     memory_limit=memory_limit) as engine:
        batch = scorer.score_database(engine, moment, reasons_for=False, evidence=False)
        return rank_entities(connection(engine), batch.frame, moment, top=top, kinds=kinds)


def entities_of_accounts(con: Any, as_of: datetime, ids: list[str], *, limit: int = 8
                         ) -> dict[str, list[dict[str, Any]]]:
    """For each account of ``ids``: the entities it uses that serve other accounts too, with
    how many accounts each serves and how many are confirmed fraudulent before ``as_of``
    (for the case report: "its payout destination also serves 11 accounts, 4 confirmed").
    Two passes over the usage tables in all, whatever the number of accounts."""
    present = tables(con)
    # a network (ASN) serves a whole ISP's customers: too broad to say anything here
    usage = _usage_sql(present, tuple(k for k in KINDS if k != "asn"))
    if not usage or not ids:
        return {}
    confirmed = confirmed_sql(present)
    found = rows(con, f"""
        WITH used AS ({usage}),
        own AS (SELECT kind, entity_key, account_id FROM used
                WHERE account_id IN (SELECT unnest($ids::VARCHAR[]))),
        served AS (
            SELECT u.kind, u.entity_key, count(*) AS account_count,
                   count(c.account_id) AS confirmed_count, sum(u.money) AS money_usd
            FROM used AS u
            SEMI JOIN own AS o ON o.kind = u.kind AND o.entity_key = u.entity_key
            LEFT JOIN ({confirmed}) AS c ON c.account_id = u.account_id
            GROUP BY u.kind, u.entity_key HAVING count(*) >= {MIN_ACCOUNTS}
        ),
        picked AS (
            SELECT o.account_id, s.*, row_number() OVER (
                PARTITION BY o.account_id
                ORDER BY s.confirmed_count DESC, s.account_count DESC, s.kind, s.entity_key
            ) AS pick
            FROM own AS o JOIN served AS s ON s.kind = o.kind AND s.entity_key = o.entity_key
        )
        SELECT * FROM picked WHERE pick <= {int(limit)}
        ORDER BY account_id, pick""", {"t": as_of, "ids": list(ids)})
    out: dict[str, list[dict[str, Any]]] = {}
    for r in found:
        kind, key = r["kind"], str(r["entity_key"])
        out.setdefault(r["account_id"], []).append({
            "kind": kind, "entity": _shown(kind, key), "account_count": int(r["account_count"]),
            "confirmed_count": int(r["confirmed_count"]),
            "money_usd": None if r["money_usd"] is None else float(r["money_usd"])})
    return out


def describe_entity(entity: Mapping[str, Any]) -> str:
    """"its payout destination pay_3f9a… serves 12 accounts (this one included), 4 of them
    confirmed fraudulent"."""
    what = _KIND_WORDS[entity["kind"]]
    verb = "hired" if entity["kind"] == "client" else "serves"
    text = (f"{what} {entity['entity']} {verb} {entity['account_count']} accounts (this one "
            f"included), {entity['confirmed_count']} of them confirmed fraudulent")
    if entity.get("money_usd"):
        text += (f"; ${entity['money_usd']:,.0f} "
                 f"{'paid to it' if entity['kind'] == 'payout' else 'billed'} in all")
    return text
