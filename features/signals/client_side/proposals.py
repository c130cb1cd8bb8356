"""Proposal templates: one cover text reused across "different" freelancers.

The text near-duplicate search of the portfolio family (:mod:`...neardup`): shingles that
more than ``SHINGLE_MAX_DOCS`` distinct texts contain are boilerplate ("I have read your
job description carefully") and count on neither side, and a text whose near-duplicates
are used by more than ``COMMON_KEY_ACCOUNTS`` accounts is a stock template, not reuse.
An account's own proposals matching each other count for nothing.
"""

from __future__ import annotations

from ... import neardup as nd
from ...registry import FeatureSpec, StageContext, stage
from ..base import confirmed_accounts

PROPOSAL_FEATURES = (
    FeatureSpec("proposal_template_shared_account_count",
                "Other accounts that sent a near-duplicate proposal cover text before T "
                "(boilerplate phrases left out).",
                reason="sends the same proposal text as {value:.0f} other accounts", fill=0,
                focus=("proposal_text",)),
    FeatureSpec("proposal_template_confirmed_account_count",
                "Accounts confirmed fraudulent before T that sent a near-duplicate of one of "
                "this account's cover texts.",
                reason="sends the same proposal text as {value:.0f} accounts already "
                       "confirmed fraudulent", fill=0, focus=("proposal_text",)),
)


@stage(needs=("accounts", "proposals"), after=(confirmed_accounts,),
       features=PROPOSAL_FEATURES)
def proposal_templates(ctx: StageContext) -> str:
    """Per account: other accounts whose cover texts near-duplicate its own."""
    # Only an account's own texts' matches make its values (no later stage reads them for
    # other accounts), so a pass that wants a few accounts searches for theirs alone.
    texts, pairs = nd.text_pairs_as_of(ctx, "proposal", "proposals", "cover_text",
                                       "account_id, submitted_at", targeted=True)
    keys = f"""(SELECT CAST(doc_key AS STRING) AS key, account_id, submitted_at AS added_at
               FROM {texts} WHERE word_count >= {nd.MIN_TEXT_WORDS})"""
    matches = nd.run_steps(ctx.create, nd.expand_matches_steps(
        keys, pairs, "proposal_account_pairs", accounts=ctx.targets))
    return f"""
    SELECT m.account_id,
           count(DISTINCT m.other_account_id) AS proposal_template_shared_account_count,
           count(DISTINCT c.account_id) AS proposal_template_confirmed_account_count
    FROM {matches} AS m
    LEFT JOIN confirmed_accounts AS c ON c.account_id = m.other_account_id
    WHERE m.other_account_id <> m.account_id
    GROUP BY m.account_id
    """
