"""What every family may read: the accounts confirmed fraudulent before T, and which sessions
ran a remote-desktop tool."""

from __future__ import annotations

from ..registry import Family, StageContext, stage


@stage(needs=("accounts",))
def confirmed_accounts(ctx: StageContext) -> str:
    """Accounts whose latest decision before T is "confirmed fraudulent" (label 1).

    An account's own label never feeds its own features: families use this table only for
    *other* accounts.
    """
    if ctx.has("labels"):
        sql = f"""
            SELECT account_id FROM (
                SELECT account_id, label,
                       row_number() OVER (PARTITION BY account_id
                                          ORDER BY decided_at DESC, label DESC) AS pick
                FROM {ctx.table('labels')}
            ) AS latest WHERE pick = 1 AND label = 1"""
    else:
        sql = f"SELECT account_id FROM {ctx.table('accounts')} WHERE 1 = 0"
    ctx.create("confirmed_accounts", sql)
    return ""


def remote_tool_seen_sql(row: str = "") -> str:
    """True for a session (``row``: its alias, if any) in which a remote-desktop or KVM tool
    was detected; an empty tool name is none."""
    column = f"{row}.remote_access_tool" if row else "remote_access_tool"
    return f"{column} IS NOT NULL AND {column} <> ''"


# Kept by build_features_for_evidence with the other families' helper tables: the
# confirmed accounts they were computed with.
FAMILY = Family("base", stages=(confirmed_accounts,), kept_tables=("confirmed_accounts",))
