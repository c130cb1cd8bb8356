"""Sessions and activity rows, vectorized over a chunk of accounts at a time.

Session times are drawn in the persona's *local* time (working windows, weekend rests,
vacations) and converted to UTC with the DST-correct zone tables; the browser offset is the
reported zone's real offset at that instant. Activity rows (message/proposal/time_log/other)
fall inside their session. Nothing is emitted at or after a persona's end (ban, churn, end).
"""

from __future__ import annotations

import numpy as np

from . import geo
from .calendar import DAY_SEC, HOUR_SEC, ZoneTable, weekday
from .frame import Cols
from .networks import IPT, SRC_FARM, SRC_MOBILE, SRC_VPN, ip_rows
from .randomness import (
    NS_COMMON_DEVICE,
    NS_DEVICE,
    NS_FARM_DEVICE,
    NS_OPERATOR_DEVICE,
    NS_SPOOF_DEVICE,
    categorical,
    entity,
    keyed_hash,
)

# message, proposal, time_log, other: honest freelancers / operators (who log lots of hours)
KIND_PROBS = np.array([[0.45, 0.15, 0.30, 0.10], [0.33, 0.20, 0.42, 0.05]])
# profile k's cumulative bounds shifted by k: one searchsorted of (profile + u) picks the kind
_KIND_CUM = np.concatenate([k + np.cumsum(row) for k, row in enumerate(KIND_PROBS)])
SESSION_MINUTES_MEAN = 45.0
BROWSER_NULL_SHARE = 0.015
DEVICE_NULL_SHARE = 0.01
COUNTRY_NULL_SHARE = 0.006
ASN_NULL_SHARE = 0.005
COMMON_PHONE_SHARE = 0.3
UNKNOWN_TYPE_SHARE = 0.004
_CTX = (
    "home_owner",
    "loc_country",
    "claimed_country",
    "cowork",
    "vpn_first",
    "vpn_count",
    "facilitator",
    "fac_country",
    "farm_ip_count",
    "acct",
    "ring",
    "trip_country",
)


def _session_times(p: Cols, pid: np.ndarray, zt: ZoneTable, rng: np.random.Generator) -> np.ndarray:
    """UTC start (seconds) of each session of personas ``pid``, drawn in the rhythm zone."""
    s = len(pid)
    g = lambda values: np.take(values, pid)  # noqa: E731
    l0_p = zt.to_local(p.rhythm_zone, p.t0_sec)
    span_p = np.maximum(zt.to_local(p.rhythm_zone, p.t1_sec) - l0_p, 1).astype(np.float64)
    l0, span = g(l0_p), g(span_p)
    day = (l0 + rng.random(s) * span).astype(np.int64) // DAY_SEC
    keep = g(p.weekend_keep)
    redraw = np.flatnonzero((weekday(day) >= 5) & (rng.random(s) >= keep))
    day2 = (l0[redraw] + rng.random(len(redraw)) * span[redraw]).astype(np.int64) // DAY_SEC
    wd2 = weekday(day2)
    again = (wd2 >= 5) & (rng.random(len(day2)) >= keep[redraw])
    day[redraw] = np.where(again, day2 + np.where(wd2 == 5, -1, 1), day2)  # Sat -> Fri, Sun -> Mon
    vs, vd = g(p.vac_start_day), g(p.vac_days)
    day += np.where((vs >= 0) & (day >= vs) & (day < vs + vd), vd, 0)

    any_hour = rng.random(s) < g(p.p_any)
    first = rng.random(s) < g(p.p_w1)
    start = np.where(first, g(p.w1_start_hours), g(p.w2_start_hours))
    length = np.where(first, g(p.w1_len_hours), g(p.w2_len_hours))
    u1, u2 = rng.random(s, dtype=np.float32), rng.random(s, dtype=np.float32)
    frac = np.where(rng.random(s, dtype=np.float32) < 0.5, (u1 + u2) * 0.5, u1)  # busier mid-shift
    hour = np.where(any_hour, 24.0 * u1, start + frac * length)
    local = day * DAY_SEC + (hour * HOUR_SEC).astype(np.int64) + rng.integers(0, 60, s)
    return zt.to_utc(np.take(p.rhythm_zone, pid), local)


def chunk_rows(
    p: Cols,
    created_sec: np.ndarray,
    exits: Cols,
    pools: Cols,
    zt: ZoneTable,
    rng: np.random.Generator,
    key: int,
) -> tuple[Cols, Cols]:
    """Session and activity rows (numpy columns, sorted by account then time) of personas ``p``."""
    span_days = np.maximum(p.t1_sec - p.t0_sec, 0) / DAY_SEC
    count = rng.poisson(p.rate_per_day.astype(np.float64) * span_days) + p.signup
    pid = np.repeat(np.arange(len(p)), count)
    first_row = np.cumsum(count) - count
    signup = np.zeros(len(pid), bool)
    signup[first_row[p.signup & (count > 0)]] = True
    t = _session_times(p, pid, zt, rng)
    t[signup] = np.take(created_sec, p.acct[pid[signup]]) + rng.integers(30, 1200, int(signup.sum()))
    t1 = np.take(p.t1_sec, pid)
    keep = (signup | (t >= np.take(p.t0_sec, pid))) & (t < t1)
    pid, t, signup, t1 = pid[keep], t[keep], signup[keep], t1[keep]
    acct = np.take(p.acct, pid)
    base_acct = int(p.acct[0]) if len(p) else 0
    order = np.argsort(((acct.astype(np.int64) - base_acct) << 33) | (t - zt.start_sec), kind="stable")
    pid, t, signup, acct, t1 = pid[order], t[order], signup[order], acct[order], t1[order]
    s = len(pid)
    g = lambda values: np.take(values, pid, axis=0)  # noqa: E731

    src = categorical(rng, g(p.src_cum))
    ctx = Cols(**{name: g(getattr(p, name)) for name in _CTX})
    ip_ent, country, asn, ip_type = ip_rows(src, ctx, t, rng.random(s), exits, pools)
    farm = src == SRC_FARM
    ip_type[rng.random(s, dtype=np.float32) < UNKNOWN_TYPE_SHARE] = IPT["unknown"]  # IP intelligence gaps

    # devices
    u = rng.random(s, dtype=np.float32)
    pick = rng.integers(0, 1 << 20, s)
    dev_count = g(p.dev_count)
    slot = np.where(
        (rng.random(s, dtype=np.float32) < 0.7) | (dev_count <= 1), 0, 1 + pick % np.maximum(dev_count - 1, 1)
    )
    dev = entity(NS_DEVICE, g(p.dev_owner).astype(np.int64) * 16 + g(p.dev_slot_base) + slot)
    shared = np.flatnonzero(u < g(p.p_dev_shared))
    dev[shared] = entity(NS_DEVICE, np.take(p.dev_leader, pid[shared]).astype(np.int64) * 16)
    op = np.flatnonzero(~farm & (u < g(p.p_op_dev)))
    dev[op] = entity(NS_OPERATOR_DEVICE, np.take(p.ring, pid[op]).astype(np.int64) * 8 + pick[op] % 3)
    spoof = np.flatnonzero(~farm & g(p.spoof))
    dev[spoof] = entity(NS_SPOOF_DEVICE, acct[spoof].astype(np.int64) * 16 + pick[spoof] % 6)
    dev[farm] = entity(NS_FARM_DEVICE, acct[farm].astype(np.int64))
    # popular phones share one fingerprint: common configurations collide across strangers
    common = np.flatnonzero((src == SRC_MOBILE) & (rng.random(s, dtype=np.float32) < COMMON_PHONE_SHARE))
    dev[common] = entity(NS_COMMON_DEVICE, pick[common] % (150 + len(created_sec) // 4000))

    # remote-desktop tools
    p_tool = np.where(farm, g(p.p_tool_farm), g(p.p_tool))
    tool = np.where(rng.random(s, dtype=np.float32) < 0.7, g(p.tool_a), g(p.tool_b))
    tool = np.where(rng.random(s, dtype=np.float32) < p_tool, tool, -1).astype(np.int8)

    # the zone the browser reports
    u = rng.random(s, dtype=np.float32)
    real = g(p.device_zone)
    pb_c = g(p.pb_claimed)
    other = np.where(
        u < pb_c,
        g(p.claimed_zone),
        np.where((src == SRC_VPN) & (u < pb_c + g(p.pb_exit)), np.take(geo.COUNTRY_MAIN_ZONE, country), real),
    )
    bzone = np.where(farm, np.where(u < g(p.farm_leak), real, g(p.claimed_zone)), other)
    offset = zt.offset_min(bzone, t).astype(np.int32)

    sessions = Cols(
        acct=acct,
        t_sec=t,
        ip_token=keyed_hash(ip_ent, key),
        ip_country=country,
        asn=asn,
        ip_type=ip_type,
        device_token=keyed_hash(dev, key),
        offset_min=offset,
        tool=tool,
        country_ok=rng.random(s, dtype=np.float32) >= COUNTRY_NULL_SHARE,
        asn_ok=rng.random(s, dtype=np.float32) >= ASN_NULL_SHARE,
        device_ok=rng.random(s, dtype=np.float32) >= DEVICE_NULL_SHARE,
        offset_ok=rng.random(s, dtype=np.float32) >= BROWSER_NULL_SHARE,
    )

    # activity inside sessions, packed as (account, time, kind) keys and sorted
    n_act = rng.poisson(np.where(signup, 0.5, g(p.act_mean)))
    sid = np.repeat(np.arange(s), n_act)
    dur = np.minimum(3.0 + rng.exponential(SESSION_MINUTES_MEAN, s), 360.0) * 60.0
    ts = np.take(t, sid) + (rng.random(len(sid)) * np.take(dur, sid)).astype(np.int64)
    ok = ts < np.take(t1, sid)
    sid, ts = sid[ok], ts[ok]
    profile = np.take(g(p.kind_profile), sid).astype(np.float64)
    kind = np.searchsorted(_KIND_CUM, profile + rng.random(len(sid)), side="right") % 4
    packed = (((np.take(acct, sid).astype(np.int64) - base_acct) << 34 | (ts - zt.start_sec)) << 2) | kind
    packed.sort()
    activity = Cols(
        acct=(packed >> 36) + base_acct,
        t_sec=((packed >> 2) & ((1 << 34) - 1)) + zt.start_sec,
        kind=(packed & 3).astype(np.int8),
    )
    return sessions, activity
