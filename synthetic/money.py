"""Payout methods and payouts.

Honest freelancers mostly have one method of their own (bank, PayPal, Payoneer, Wise...) to
their own country; Payoneer users outside the US often receive on US virtual accounts, and
crypto holders often have no destination country. Households sometimes share a bank account;
agencies pay members through the agency's account. Rings churn methods and share them: ring
wallets and the facilitator's accounts (often crypto/Payoneer, sometimes abroad), unless the
ring evades with ``own_payout``. A payout goes to the latest method added before it.
"""

from __future__ import annotations

import numpy as np

from . import geo
from .frame import DAY_SEC, Cols
from .population import EVASION_BIT, LOOKALIKES
from .randomness import (
    NS_PAYOUT_AGENCY,
    NS_PAYOUT_FACILITATOR,
    NS_PAYOUT_HOUSEHOLD,
    NS_PAYOUT_OWN,
    NS_PAYOUT_RING,
    choice_index,
    entity,
    mix64,
)

BANK, PAYPAL, PAYONEER, WISE, CRYPTO, OTHER = range(6)  # order of contract.PAYOUT_METHODS
_WESTERN = geo.countries(("US", "CA", "GB", "AU", "DE", "FR", "NL", "ES", "IT", "IE", "SE", "CH", "NZ"))
_WEST_METHODS = (40, 30, 8, 15, 2, 5)
_OTHER_METHODS = (22, 14, 38, 16, 4, 6)
_SHARED_METHODS = np.array([BANK] * 25 + [PAYPAL] * 5 + [PAYONEER] * 35 + [WISE] * 10 + [CRYPTO] * 25)
_US = geo.COUNTRY_INDEX["US"]


def _honest_methods(
    acct: np.ndarray, plan: Cols, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator
) -> Cols:
    """Methods of honest lives of accounts ``acct`` active in [lo, hi)."""
    n = len(acct)
    count = choice_index(rng, (5, 78, 13, 4), n)
    crypto_user = plan.lookalike[acct] == LOOKALIKES.index("crypto")
    count = np.where(crypto_user, np.maximum(count, 1), count)
    a = np.repeat(acct, count)
    k = np.arange(len(a)) - np.repeat(np.cumsum(count) - count, count)
    country = plan.country[a]
    west = np.isin(country, _WESTERN)
    method = np.where(
        west, choice_index(rng, _WEST_METHODS, len(a)), choice_index(rng, _OTHER_METHODS, len(a))
    )
    method[np.repeat(crypto_user, count) & (k == 0)] = CRYPTO
    dest = country.copy()
    dest = np.where((method == PAYONEER) & ~west & (rng.random(len(a)) < 0.3), _US, dest)
    nomad = plan.lookalike[a] == LOOKALIKES.index("nomad")
    dest = np.where(nomad & (rng.random(len(a)) < 0.3), plan.loc_country[a], dest)
    dest_ok = ~((method == CRYPTO) & (rng.random(len(a)) < 0.75))
    ent = entity(NS_PAYOUT_OWN, a.astype(np.int64) * 8 + k)
    first = k == 0
    house = (
        first & (plan.household[a] >= 0) & (mix64(plan.household[a].astype(np.uint64)) % np.uint64(4) == 0)
    )
    ent[house] = entity(NS_PAYOUT_HOUSEHOLD, plan.household[a[house]])
    method[house], dest[house] = BANK, country[house]
    agency = first & (plan.agency[a] >= 0) & (rng.random(len(a)) < 0.85)
    ent[agency] = entity(NS_PAYOUT_AGENCY, plan.agency[a[agency]])
    method[agency] = np.array([BANK, PAYONEER, WISE])[
        (mix64(plan.agency[a[agency]].astype(np.uint64)) % np.uint64(3)).astype(np.int64)
    ]
    dest[agency] = country[agency]
    gap = np.where(first, rng.exponential(10.0, len(a)), rng.exponential(120.0, len(a)) + 20.0) * DAY_SEC
    return _method_cols(a, ent, method, dest, dest_ok, lo, hi, count, gap)


def _method_cols(a: np.ndarray, token: np.ndarray, method: np.ndarray, dest: np.ndarray,
                 dest_ok: np.ndarray, lo: np.ndarray, hi: np.ndarray, count: np.ndarray,
                 gap: np.ndarray) -> Cols:
    """Payout-method rows; each account's methods are added ``gap`` seconds apart from its
    ``lo``."""
    added = _per_account_cumsum(np.repeat(lo, count), gap.astype(np.int64), count)
    return Cols(acct=a, token=token, method=method.astype(np.int8), dest=dest.astype(np.int16),
                dest_ok=dest_ok, added=added, hi=np.repeat(hi, count))


def _per_account_cumsum(start: np.ndarray, gaps: np.ndarray, count: np.ndarray) -> np.ndarray:
    """start + running sum of gaps, restarting at each account's first row."""
    total = np.cumsum(gaps)
    row_first = np.repeat(np.cumsum(count) - count, count)  # each row's account's first row
    return start + total - (total[row_first] - gaps[row_first])


def _ring_methods(
    acct: np.ndarray, plan: Cols, facs: Cols, lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator
) -> Cols:
    """Methods of fronted lives: churned often, shared across the ring or facilitator."""
    n = len(acct)
    own_ev = (plan.evasion[acct] & EVASION_BIT["own_payout"]) > 0
    count = np.where(own_ev, 1, rng.integers(1, 5, n))  # evaders keep one token of their own
    a = np.repeat(acct, count)
    m = len(a)
    k = np.arange(m) - np.repeat(np.cumsum(count) - count, count)
    own = np.repeat(own_ev, count) | (rng.random(m) < 0.12)
    fac = plan.facilitator[a]
    use_fac = ~own & (fac >= 0) & (rng.random(m) < 0.5)
    use_ring = ~own & ~use_fac
    fac_tokens = facs.payout_token_count[np.maximum(fac, 0)]
    ent = entity(NS_PAYOUT_OWN, a.astype(np.int64) * 8 + 4 + k % 4)
    ent[use_fac] = entity(
        NS_PAYOUT_FACILITATOR,
        fac[use_fac].astype(np.int64) * 4
        + rng.integers(0, 1 << 20, int(use_fac.sum())) % fac_tokens[use_fac],
    )
    ent[use_ring] = entity(
        NS_PAYOUT_RING, plan.ring[a[use_ring]].astype(np.int64) * 4 + rng.integers(0, 3, int(use_ring.sum()))
    )
    h = mix64(ent)
    shared = ~own
    method = np.where(
        own,
        np.array([BANK, PAYONEER, PAYPAL])[choice_index(rng, (55, 30, 15), m)],
        _SHARED_METHODS[(h % np.uint64(len(_SHARED_METHODS))).astype(np.int64)],
    )
    home = np.where(fac >= 0, facs.country[np.maximum(fac, 0)], plan.country[a])
    away = ((h >> np.uint64(17)) % np.uint64(100)).astype(np.int64) < 25
    elsewhere = geo.FRONT_PAYOUT_ELSEWHERE[choice_index(rng, geo.FRONT_PAYOUT_ELSEWHERE_WEIGHTS, m)]
    elsewhere = np.where(
        shared,
        geo.FRONT_PAYOUT_ELSEWHERE[(h >> np.uint64(33)).astype(np.int64) % len(geo.FRONT_PAYOUT_ELSEWHERE)],
        elsewhere,
    )
    dest = np.where(own, plan.country[a], np.where(away, elsewhere, home))
    dest_ok = ~((method == CRYPTO) & (((h >> np.uint64(40)) % np.uint64(10)).astype(np.int64) < 7))
    gap = np.where(k == 0, rng.exponential(5.0, m), rng.exponential(45.0, m) + 5.0) * DAY_SEC
    return _method_cols(a, ent, method, dest, dest_ok, lo, hi, count, gap)


def payout_methods(plan: Cols, facs: Cols, rng: np.random.Generator) -> Cols:
    """All payout methods, sorted by account then time, none added at or after an account's end."""
    rented = plan.takeover_sec >= 0
    honest = np.flatnonzero(~plan.is_fronted | rented)
    honest_hi = np.where(
        rented[honest], np.minimum(plan.takeover_sec[honest], plan.stop_sec[honest]), plan.stop_sec[honest]
    )
    parts = [_honest_methods(honest, plan, plan.active_start_sec[honest], honest_hi, rng)]
    fronted = np.flatnonzero(plan.is_fronted)
    f_lo = np.where(rented[fronted], plan.takeover_sec[fronted], plan.active_start_sec[fronted])
    parts.append(_ring_methods(fronted, plan, facs, f_lo, plan.stop_sec[fronted], rng))
    methods = Cols.concat(parts)
    methods = methods.take(methods.added < methods.hi)
    return methods.take(np.lexsort((methods.added, methods.acct)))


def payouts(plan: Cols, methods: Cols, rng: np.random.Generator) -> Cols:
    """Payouts to the latest method added before each (sometimes an older one), amounts in USD."""
    n = len(plan)
    span_days = np.maximum(plan.stop_sec - plan.active_start_sec, 0) / DAY_SEC
    has_method = np.bincount(methods.acct, minlength=n) > 0
    lam = np.where(plan.is_fronted, 0.08 * span_days, 0.22 * plan.rate_per_day * span_days)
    count = np.where(has_method, rng.poisson(lam), 0)
    a = np.repeat(np.arange(n), count)
    first_added = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_added, methods.acct, methods.added)
    lo = first_added[a] + 2 * DAY_SEC
    hi = plan.stop_sec[a]
    paid = lo + (rng.random(len(a)) * np.maximum(hi - lo, 0)).astype(np.int64)
    keep = paid < hi
    a, paid = a[keep], paid[keep]
    shift = np.int64(1) << np.int64(36)
    key_m = methods.acct.astype(np.int64) * shift + (methods.added - plan.created_sec.min() + DAY_SEC)
    key_p = a.astype(np.int64) * shift + (paid - plan.created_sec.min() + DAY_SEC)
    idx = np.searchsorted(key_m, key_p, side="right") - 1
    first_of_acct = np.searchsorted(methods.acct, a, side="left")
    older = rng.random(len(a)) < 0.2
    alt = first_of_acct + (rng.integers(0, 1 << 30, len(a)) % np.maximum(idx - first_of_acct + 1, 1))
    idx = np.where(older, alt, idx)
    fronted = plan.is_fronted[a]
    amount = np.where(
        fronted, rng.lognormal(np.log(900.0), 0.6, len(a)), rng.lognormal(np.log(220.0), 1.0, len(a))
    )
    out = Cols(acct=a, token=methods.token[idx], amount_usd=np.round(amount, 2), paid=paid)
    return out.take(np.lexsort((out.paid, out.acct)))
