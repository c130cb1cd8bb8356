"""A stranger's marketplace: a general freelance marketplace, built from the data contract alone.

`build(folder, seed, scenario)` writes a contract folder (accounts, sessions, activity,
payout_methods, payouts, portfolio_items, proposals, labels) and returns the truth. Written from
the data contract and the public FBI, State and Treasury advisories on North Korean remote IT
workers, apart from `synthetic/` and the project's features and training code: a score here
says whether the product generalizes to a marketplace it was not tuned on.

~15,000 freelancers (web, mobile, data, design, writing, devops, assistants) from ~30
countries sign up 2023-01-01..2025-10-01 and work until 2026-03-01 (some go dormant): in their
own daytime, from a few home and mobile IPs, paid to their own bank, PayPal, Payoneer or Wise.
Honest look-alikes (the truth's `group`): vpn users, travellers, night-shift workers, families
sharing a home, studios sharing an office, a payout account, portfolio and a letter template,
IT support with remote-desktop tools, expats living far from their profile, crypto earners.
Fronts claim US/CA/GB/DE/UA/PL/JP identities, run from UTC+8/+9/+3 in cells of 3-25. Scenario
"tokens" (3% fronted): cells share a laptop farm, payout tokens, portfolio images and links,
photos, letters; "nothing" (2%): own residential proxies, device, payout and texts, behaviour
alone; "realistic" (0.3%): half the cells each way. Behaviour, a random subset per front: the
operator's daytime and week, long unbroken runs, the operator's browser offset, vpn/proxy/
hosting IPs, CN/RU slips, remote tools, payout churn. Labels dated in 2025: 40% of the fronts
confirmed, five times as many honest accounts (mostly look-alikes) cleared; the rest is judged
as of 2026-01-01.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa

import _stranger_text as tx  # benchmarks/ is on sys.path when run as a script

EPOCH = datetime(2022, 12, 26)  # a Monday; times below are seconds from it
DAY, HOUR = 86_400, 3_600


def _at(y: int, m: int, d: int) -> int:
    return int((datetime(y, m, d) - EPOCH).total_seconds())


# sign-ups open and close; T, the benchmark's as-of time; the export's end
OPEN, SIGNUP_END, T, END = _at(2023, 1, 1), _at(2025, 10, 1), _at(2026, 1, 1), _at(2026, 3, 1)
DECIDE_FROM, DECIDE_TO = _at(2025, 1, 1), _at(2025, 12, 31)
FRONT_SHARE = {"tokens": .03, "nothing": .02, "realistic": .003}
GROUPS = {"vpn": .04, "traveller": .04, "night": .03, "family": .04, "studio": .03,
          "support": .02, "expat": .03, "crypto": .02}
POOLS = {3: (tx.HOSTING, 200), 4: (tx.VPN_EXITS, 400), 5: (tx.PROXY, 300), 6: (tx.HOSTING, 60)}
ZONES = sorted({z for _, zs in tx.COUNTRIES.values() for z, _ in zs} | set(tx.ABROAD.values())
               | {z for z, _, _ in tx.OPERATORS})
ZI = {z: i for i, z in enumerate(ZONES)}
CC = sorted(set(tx.COUNTRIES) | set(tx.ABROAD) | set(tx.VPN_EXITS) | set(tx.HOSTING)
            | set(tx.PROXY) | set(tx.FRONT_PAYOUT_ABROAD) | set(tx.CRYPTO_ABROAD))
CI = {c: i for i, c in enumerate(CC)}


@cache
def _offsets() -> np.ndarray:
    """UTC offset in minutes of every zone (rows) at every hour from EPOCH (columns)."""
    start = EPOCH.replace(tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(END // HOUR + 24 * 8)]
    return np.array([[int(h.astimezone(ZoneInfo(z)).utcoffset().total_seconds()) // 60
                      for h in hours] for z in ZONES], dtype=np.int16)


def _ts(secs: np.ndarray) -> pa.Array:
    micros = (np.asarray(secs, float) * 1e6).astype(np.int64)
    return pa.array(micros + int((EPOCH - datetime(1970, 1, 1)).total_seconds()) * 10**6,
                    pa.timestamp("us"))


def build(folder: Path, seed: int, scenario: str, n: int = 15_000) -> dict[str, np.ndarray]:
    """Write a freelance marketplace's contract folder; return the truth."""
    if scenario not in FRONT_SHARE:
        raise ValueError(f"scenario must be one of {sorted(FRONT_SHARE)}, not {scenario!r}")
    rng = np.random.default_rng(seed)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    off = _offsets()
    ids = np.array([f"m{i:05d}" for i in range(n)])
    nxt = [0]

    def alloc(k) -> np.ndarray:  # blocks of fresh token ids, k[i] of them for row i
        k = np.asarray(k, np.int64)
        base = nxt[0] + np.cumsum(k) - k
        nxt[0] += int(k.sum())
        return base

    # --- who is who ------------------------------------------------------------------------
    perm = rng.permutation(n)
    nf = max(3, round(n * FRONT_SHARE[scenario]))
    fronted = np.zeros(n, bool)
    fronted[perm[:nf]] = True
    csizes = tx.chunks(rng, nf, 3, 25, 7)
    nc = len(csizes)
    cell = np.full(n, -1)
    cell[perm[:nf]] = np.repeat(np.arange(nc), csizes)
    farm_style = {"tokens": np.ones(nc, bool), "nothing": np.zeros(nc, bool),
                  "realistic": (np.arange(nc) + rng.integers(2)) % 2 == 0}[scenario]
    shared = fronted & farm_style[np.maximum(cell, 0)]
    group = np.full(n, "", dtype=object)
    house, head, pos = np.full(n, -1), np.arange(n), nf
    for g, share in GROUPS.items():
        members = perm[pos:pos + round(n * share)]
        pos += len(members)
        group[members] = g
        if g in ("family", "studio"):
            sizes = tx.chunks(rng, len(members), *((2, 4, 2.5) if g == "family" else (3, 10, 5)))
            first = np.repeat(np.cumsum(sizes) - sizes, sizes)
            house[members] = house.max() + 1 + np.repeat(np.arange(len(sizes)), sizes)
            head[members] = members[first]
    # --- where they claim to be, live, work and browse from --------------------------------
    names = list(tx.COUNTRIES)
    claim = np.array([CI[c] for c in tx.pick(rng, {c: w for c, (w, _) in tx.COUNTRIES.items()}, n)])
    cz = np.zeros(n, int)
    for c in names:
        m = claim == CI[c]
        cz[m] = [ZI[z] for z in tx.pick(rng, tx.COUNTRIES[c][1], int(m.sum()))]
    claim, cz = claim[head], cz[head]
    live_cc, lz = claim.copy(), cz.copy()
    ex = group == "expat"
    claim[ex] = [CI[c] for c in rng.choice(tx.EXPAT_CLAIMS, ex.sum())]
    cz[ex] = [ZI[tx.pick(rng, tx.COUNTRIES[CC[c]][1])] for c in claim[ex]]
    live_cc[ex] = [CI[c] for c in rng.choice(tx.EXPAT_HOMES, ex.sum())]
    lz[ex] = [ZI[tx.ABROAD[CC[c]]] for c in live_cc[ex]]
    op = rng.choice(len(tx.OPERATORS), nc, p=[o[2] for o in tx.OPERATORS])
    cell_cc = np.array([CI[c] for c in tx.pick(rng, tx.FRONT_CLAIMS, nc)])
    fi = np.flatnonzero(fronted)
    own_claim = np.array([CI[c] for c in tx.pick(rng, tx.FRONT_CLAIMS, nf)])
    claim[fi] = np.where(shared[fi] & (rng.random(nf) < .8), cell_cc[cell[fi]], own_claim)
    cz[fi] = [ZI[tx.pick(rng, tx.COUNTRIES[CC[c]][1])] for c in claim[fi]]
    live_cc[fi] = claim[fi]  # residential proxies and the farm sit in the claimed country
    op_zone = np.array([ZI[o[0]] for o in tx.OPERATORS])[op]
    op_cc = np.array([CI[o[1]] for o in tx.OPERATORS])[op]
    lz[fi] = op_zone[cell[fi]]
    tell = {k: fronted & (rng.random(n) < p) for k, p in
            (("hours", .65), ("runs", .5), ("offset", .35), ("anon", .4), ("slip", .3),
             ("tools", .3), ("churn", .4))}
    wz = np.where(tell["hours"], lz, np.where(fronted, cz, lz))
    bz = np.where(fronted, cz, lz)
    start_h = np.clip(rng.normal(8.5, 1.6, n), 5, 13)
    span_h = rng.uniform(7, 14, n)
    night = group == "night"
    start_h[night], span_h[night] = rng.uniform([[20], [6]], [[23.5], [10]], (2, night.sum()))
    start_h[tell["hours"]] = rng.normal(9, 1, tell["hours"].sum())
    keep_weekend = np.where(tell["hours"], rng.uniform(.05, .25, n), rng.uniform(.15, .6, n))
    created = OPEN + (SIGNUP_END - OPEN) * rng.random(n) ** np.where(fronted, .6, .8)
    dormant = rng.random(n) < .12
    end = np.where(dormant, created + (END - created) * rng.uniform(.15, .9, n), END)
    trav = group == "traveller"
    trip_len = rng.integers(14, 42, n)
    room = np.maximum(end // DAY - created // DAY - trip_len, 1)
    trip_s = (created // DAY + rng.random(n) * room).astype(int)
    trip_cc = np.array([CI[c] for c in rng.choice(list(tx.ABROAD), n)])
    trip_cc = np.where(trip_cc == live_cc, CI["PT"], trip_cc)
    trip_z = np.array([ZI[tx.ABROAD[CC[c]]] for c in trip_cc])
    # --- sessions --------------------------------------------------------------------------
    ns = rng.integers(20, 61, n)
    S = int(ns.sum())
    sa = np.repeat(np.arange(n), ns)
    k_in = np.arange(S) - np.repeat(np.cumsum(ns) - ns, ns)
    d0, d1 = (created // DAY).astype(int), (end // DAY).astype(int)
    d = d0[sa] + (rng.random(S) * (d1 - d0)[sa]).astype(int)
    weekend = (d % 7 >= 5) & (rng.random(S) > keep_weekend[sa])
    d = np.where(weekend, np.where(d + 2 < d1[sa], d + 2, d - 2), d)
    to_trip = trav[sa] & (rng.random(S) < rng.uniform(.15, .3, n)[sa])
    d = np.where(to_trip, trip_s[sa] + (rng.random(S) * trip_len[sa]).astype(int), d)
    on_trip = trav[sa] & (d >= trip_s[sa]) & (d < trip_s[sa] + trip_len[sa])
    zs = np.where(on_trip, trip_z[sa], wz[sa])
    odd = rng.random(S) < .04  # a deadline, insomnia: any hour
    local = d * DAY + np.where(odd, rng.random(S) * 24, start_h[sa] + rng.random(S)
                               * span_h[sa]) * HOUR
    guess = np.clip((local - off[zs, 0] * 60) // HOUR, 0, off.shape[1] - 1).astype(int)
    t = local - off[zs, guess].astype(float) * 60
    t = np.where(t < created[sa], t + DAY, np.where(t >= END, t - DAY, t))
    t = np.maximum(t, created[sa] + 60)
    bs = np.where(on_trip, trip_z[sa], bz[sa])
    share_op = rng.uniform(.2, .8, n)
    bs = np.where(tell["offset"][sa] & (rng.random(S) < share_op[sa]), lz[sa], bs)
    p = np.tile([.70, .17, .05, .004, .015, .003, .0005, .0075], (n, 1))
    p[group == "vpn", 4] = rng.uniform(.4, .9, (group == "vpn").sum())
    p[group == "studio", 2] = rng.uniform(.3, .6, (group == "studio").sum())
    p[fronted, 1:3] = .02
    anon = tell["anon"]
    p[anon, 3:6] = rng.uniform(.15, .4, (anon.sum(), 1)) * [.3, .5, .2]
    cum = np.cumsum(p / p.sum(1, keepdims=True), 1)
    typ = np.minimum((rng.random(S)[:, None] > cum[sa]).sum(1), 7)
    home_n, mob_n, biz_n = rng.integers(1, 5, n), rng.integers(1, 4, n), rng.integers(1, 3, n)
    home, mob, biz = alloc(home_n), alloc(mob_n), alloc(biz_n)
    fam, stu = group == "family", group == "studio"
    home[fam], home_n[fam] = home[head[fam]], home_n[head[fam]]
    biz[stu], biz_n[stu] = biz[head[stu]], biz_n[head[stu]]
    isp = rng.integers(0, 4, n)[head]
    r = rng.random(S)
    unk = alloc(np.ones(n, int))  # an IP of the own country no geolocation database knows
    own = [b[sa] + (r * k[sa]).astype(int) for b, k in ((mob, mob_n), (biz, biz_n), (home, home_n))]
    tok = np.select([typ == 1, typ == 2, typ == 7], [own[0], own[1], unk[sa]], own[2])
    cty = live_cc[sa].copy()
    asn = 7000 + cty * 8 + np.select([typ == 1, typ == 2], [4 + tok % 2, 6 + 0 * tok], isp[sa])
    cgnat = (typ == 1) & (rng.random(S) < .3)  # carrier-grade NAT: strangers share a mobile IP
    tok[cgnat] = alloc([40 * len(CC)])[0] + 40 * cty[cgnat] + rng.integers(0, 40, cgnat.sum())
    asn[cgnat] = 7000 + cty[cgnat] * 8 + 4 + tok[cgnat] % 2
    for k, (countries, size) in POOLS.items():
        m = typ == k
        base, pool_cc = alloc([size])[0], rng.choice([CI[c] for c in countries], size)
        pool_asn, pi = rng.choice(tx.POOL_ASN, size), rng.integers(0, size, m.sum())
        tok[m], cty[m], asn[m] = base + pi, pool_cc[pi], pool_asn[pi]
    trip_tok = alloc(np.full(n, 3))
    typ[on_trip] = rng.choice(3, on_trip.sum(), p=[.5, .3, .2])  # a flat, a SIM, a cafe
    tok[on_trip] = trip_tok[sa[on_trip]] + typ[on_trip]
    cty[on_trip] = trip_cc[sa[on_trip]]
    asn[on_trip] = 7000 + cty[on_trip] * 8 + tok[on_trip] % 4
    dev_n = 1 + (rng.random(n) < .5)
    dev = alloc(dev_n)
    dv = dev[sa] + ((dev_n[sa] == 2) & ((typ == 1) | (rng.random(S) < .15)))
    fam_dev = alloc(np.ones(n, int))[head]
    fam_share = fam & (rng.random(n) < .5)
    dv = np.where(fam_share[sa] & (rng.random(S) < .35), fam_dev[sa], dv)
    p_tool = np.where(group == "support", rng.uniform(.2, .6, n),
                      np.where(tell["tools"], rng.uniform(.05, .3, n), .003))
    tool = np.where(rng.random(S) < p_tool[sa], 1, 0)
    # the cells: a laptop farm in the claimed country, the operators' office IPs
    farm_tok, office = alloc(np.full(nc, 2)), alloc(np.full(nc, 3))
    farm_dev = alloc(np.ones(n, int))
    mates, prev = perm[:nf], np.roll(perm[:nf], 1)  # perm[:nf] lists the cells in turn
    lend = shared[mates] & (cell[prev] == cell[mates]) & (rng.random(nf) < .2)
    farm_dev[mates[lend]] = farm_dev[prev[lend]]
    at_farm = shared & (claim == cell_cc[np.maximum(cell, 0)]) & (rng.random(n) < .7)
    farm = at_farm[sa] & (rng.random(S) < rng.uniform(.4, .9, n)[sa])
    fc = cell[sa[farm]]
    typ[farm], tok[farm] = 0, farm_tok[fc] + (rng.random(farm.sum()) < .2)
    cty[farm], asn[farm], dv[farm] = cell_cc[fc], 7000 + cell_cc[fc] * 8 + fc % 4, farm_dev[
        sa[farm]]
    tool[farm] = np.where(rng.random(farm.sum()) < .8, 2, 0)
    bs[farm] = cz[sa[farm]]
    slip = tell["slip"][sa] & (rng.random(S) < rng.uniform(.01, .04, n)[sa]) & ~farm
    own_slip, sc = alloc(np.full(n, 2)), cell[sa[slip]]
    slip_i = rng.integers(0, 3, slip.sum())  # three office IPs (a cell's), two own ones
    slip_i = np.where(shared[sa[slip]], slip_i, slip_i % 2)
    typ[slip] = np.array([0, 2, 1])[slip_i]
    tok[slip] = np.where(shared[sa[slip]], office[sc], own_slip[sa[slip]]) + slip_i
    cty[slip] = op_cc[sc]
    asn[slip] = [tx.OP_ASN[CC[c]][int(x) % 3] for c, x in zip(cty[slip], tok[slip])]
    tool = np.where((tool == 1) & tell["tools"][sa], 2, tool)  # fronts' tools are the farms'
    tool_name = np.array([None] * S, dtype=object)
    for v, names in ((1, tx.HONEST_TOOLS), (2, tx.FARM_TOOLS)):
        tool_name[tool == v] = tx.pick(rng, names, int((tool == v).sum()))
    dv[rng.random(S) < .01] = -1
    brow = off[bs, np.clip(t // HOUR, 0, off.shape[1] - 1).astype(int)].astype(np.int32)
    tx.write(folder, "sessions", {
        "account_id": pa.array(ids).take(pa.array(sa)), "started_at": _ts(t),
        "ip_token": tx.tokens(tok, 11 + seed), "ip_country": pa.array(CC).take(pa.array(cty)),
        "asn": pa.array(asn.astype(np.int64), mask=rng.random(S) < .01),
        "ip_type": pa.array(tx.IP_TYPES).take(pa.array(typ)),
        "device_token": tx.tokens(dv, 23 + seed),
        "browser_utc_offset_min": pa.array(brow, pa.int32()),
        "remote_access_tool": pa.array(tool_name, pa.string())}, np.argsort(t, kind="stable"))
    # --- activity: rows inside the sessions; some fronts work in long unbroken runs ---------
    lam = rng.integers(50, 301, n) / ns
    marathon = k_in < np.where(tell["runs"], rng.integers(4, 11, n), 0)[sa]
    rows = np.where(marathon, rng.poisson(90, S), rng.poisson(lam[sa]))
    aset = np.repeat(np.arange(S), rows)
    gap = rng.exponential(np.where(marathon, 5, rng.uniform(6, 20, n)[sa])[aset]) * 60
    gap *= np.where(~marathon[aset] & (rng.random(len(aset)) < .07), 6, 1)
    cs = np.cumsum(gap)
    firsts = (np.cumsum(rows) - rows)[rows > 0]
    ats = t[aset] + cs - np.repeat(cs[firsts] - gap[firsts], rows[rows > 0])
    keep = ats < END
    aset, ats = aset[keep], ats[keep]
    kind = rng.choice(4, len(ats), p=tx.KIND_P)
    acc = sa[aset]
    tx.write(folder, "activity", {
        "account_id": pa.array(ids).take(pa.array(acc)), "ts": _ts(ats),
        "kind": pa.array(tx.KINDS).take(pa.array(kind))}, np.argsort(ats, kind="stable"))
    # --- payouts, portfolios, profiles, letters (per account: a few rows each) --------------
    field = np.where(fronted, rng.choice(tx.IT_FIELDS, n), rng.choice(
        list(tx.FIELDS), n, p=[.3, .12, .14, .14, .12, .06, .12]))
    first_names = rng.choice(tx.FIRST, n)
    who = [tx.Persona(rng, first_names[i], field[i]) for i in range(n)]
    cell_who = [tx.Persona(rng, str(rng.choice(tx.FIRST)), "web") for _ in range(nc)]
    templates = [w.template(rng) for w in cell_who]
    studio_tpl = {h: who[int(np.flatnonzero(house == h)[0])].template(rng)
                  for h in np.unique(house[stu])}
    cell_pay = [[(int(alloc([1])[0]), str(tx.pick(rng, {"payoneer": .35, "wise": .2, "other": .2,
                                                     "crypto": .15, "paypal": .1})),
                  CC[cell_cc[c]] if rng.random() < .3 else str(rng.choice(
                      tx.FRONT_PAYOUT_ABROAD))) for _ in range(rng.integers(1, 4))]
                for c in range(nc)]
    studio_pay = {h: (int(alloc([1])[0]), str(rng.choice(["bank", "payoneer", "wise"])))
                  for h in np.unique(house[stu])}
    pool_items = {("c", c): [cell_who[c].item(rng) + (int(rng.integers(0, 2**63)),)
                             for _ in range(6)] for c in range(nc)}
    pool_items.update({("s", h): [who[int(np.flatnonzero(house == h)[0])].item(rng)
                                  + (int(rng.integers(0, 2**63)),) for _ in range(5)]
                       for h in np.unique(house[stu])})
    stock = [int(x) for x in rng.integers(0, 2**63, 25)]
    cell_photo = [[int(x) for x in rng.integers(0, 2**63, 3)] for _ in range(nc)]
    pm, it, photo = [], [], []
    for a in range(n):
        c, cc, w = cell[a], CC[claim[a]], who[a]
        t0 = created[a] + rng.uniform(0, 10) * DAY
        west = cc in ("US", "CA", "GB", "DE", "AU", "FR")
        local_pick = {"bank": .45, "paypal": .35, "wise": .1, "payoneer": .1} if west else {
            "payoneer": .35, "wise": .2, "bank": .25, "paypal": .2}
        if shared[a]:
            if bank := rng.random() < .5:
                pm.append((a, int(alloc([1])[0]), "bank", cc, t0))
            for tok_, meth, dest in cell_pay[c][:int(rng.integers(1, len(cell_pay[c]) + 1))]:
                pm.append((a, tok_, meth, dest, t0 + bank * rng.uniform(1, 60) * DAY))
        elif group[a] == "studio":
            s_tok, s_meth = studio_pay[house[a]]
            pm.append((a, s_tok, s_meth, cc, t0))
        else:
            abroad = rng.random() < (.3 if fronted[a] else .08)
            dest = str(rng.choice(tx.FRONT_PAYOUT_ABROAD if fronted[a] else tx.CRYPTO_ABROAD)
                       ) if abroad else cc
            pm.append((a, int(alloc([1])[0]), str(tx.pick(rng, local_pick)), dest, t0))
            if not fronted[a] and rng.random() < .3:
                pm.append((a, int(alloc([1])[0]), str(tx.pick(rng, local_pick)), cc,
                           t0 + rng.uniform(30, 400) * DAY))
        if group[a] == "crypto":
            pm.append((a, int(alloc([1])[0]), "crypto", str(rng.choice(tx.CRYPTO_ABROAD)),
                       t0 + rng.uniform(1, 200) * DAY))
        if tell["churn"][a]:
            for _ in range(rng.integers(2, 6)):
                pm.append((a, int(alloc([1])[0]), str(tx.pick(rng, {"payoneer": .3, "wise": .3,
                          "paypal": .2, "crypto": .1, "other": .1})), str(rng.choice(
                              [cc, *tx.FRONT_PAYOUT_ABROAD])), t0 + rng.uniform(20, 300) * DAY))
        pool = pool_items.get(("c", c) if shared[a] else ("s", house[a]) if stu[a] else None)
        reuse = .7 if shared[a] else .6 if stu[a] else 0
        for _ in range(rng.poisson(3 if fronted[a] else 1.8) + int(shared[a])):
            if pool and rng.random() < reuse:
                url, title, desc, ph = pool[rng.integers(len(pool))]
                ph_s = tx.flip(rng, ph, 3)
            else:
                (url, title, desc), ph = w.item(rng), int(rng.integers(0, 2**63))
                stock_image = rng.random() < .03  # a free template's or stock picture
                ph_s = tx.flip(rng, stock[rng.integers(25)], 2) if stock_image else f"{ph:016x}"
            it.append((a, url if rng.random() > .15 else None, title, desc,
                       ph_s if rng.random() > .1 else None,
                       created[a] + rng.uniform(0, min(200, (end[a] - created[a]) / DAY)) * DAY))
        u = rng.random()
        photo.append(None if u < .12 else tx.flip(rng, stock[rng.integers(5)], 2) if u < .14
                     else tx.flip(rng, cell_photo[c][rng.integers(3)], 4) if shared[a] and u > .5
                     else f"{int(rng.integers(0, 2**63)):016x}")
    pa_, pt, pmeth, pdest, padd = (np.array(x, dtype=object) for x in zip(*pm))
    order = np.lexsort((padd.astype(float), pa_.astype(int)))
    tx.write(folder, "payout_methods", {
        "account_id": pa.array(ids[pa_.astype(int)]), "payout_token": tx.tokens(pt, 37 + seed),
        "method": pa.array(pmeth.tolist()), "destination_country": pa.array(pdest.tolist()),
        "added_at": _ts(padd.astype(float))}, order)
    earner = rng.random(n) < np.where(fronted, .95, .8)
    period = rng.uniform(7, 35, n) * DAY
    p_start = created + rng.uniform(12, 60, n) * DAY
    npay = np.where(earner, np.maximum((end - p_start) // period, 0), 0).astype(int)
    pay_a = np.repeat(np.arange(n), npay)
    k = np.arange(len(pay_a)) - np.repeat(np.cumsum(npay) - npay, npay)
    paid = p_start[pay_a] + k * period[pay_a] + rng.uniform(0, 2, len(pay_a)) * DAY
    key_m = pa_.astype(np.int64) * 2**32 + padd.astype(float).astype(np.int64)
    srt = np.argsort(key_m)
    which = np.searchsorted(key_m[srt], pay_a * 2**32 + paid.astype(np.int64), "right") - 1
    level = rng.normal(5.2, .7, n)
    tx.write(folder, "payouts", {
        "account_id": pa.array(ids).take(pa.array(pay_a)),
        "payout_token": tx.tokens(pt[srt][which].astype(np.int64), 37 + seed),
        "amount_usd": np.round(rng.lognormal(level[pay_a], .6), 2), "paid_at": _ts(paid)})
    ia, url, title, desc, iph, iadd = zip(*it)
    tx.write(folder, "portfolio_items", {
        "account_id": pa.array(ids[list(ia)]),
        "item_id": pa.array([f"pi{i:06d}" for i in range(len(ia))]),
        "url": pa.array(url, pa.string()), "title": pa.array(title),
        "description": pa.array(desc), "image_phash": pa.array(iph, pa.string()),
        "added_at": _ts(np.array(iadd))})
    tx.write(folder, "accounts", {
        "account_id": pa.array(ids), "created_at": _ts(created),
        "claimed_country": pa.array(CC).take(pa.array(claim)),
        "claimed_timezone": pa.array(ZONES).take(pa.array(cz)),
        "profile_photo_phash": pa.array(photo, pa.string()),
        "display_name": pa.array([f"{f} {g[0]}." for f, g in zip(first_names,
                                                                  rng.choice(tx.LAST, n))])})
    prop = np.flatnonzero(kind == 1)
    per = np.bincount(acc[prop], minlength=n)
    prop = prop[rng.random(len(prop)) < np.minimum(1, 30 / np.maximum(per[acc[prop]], 1))]
    tpl_use = rng.random(len(prop))
    texts = []
    for j, pa_i in enumerate(acc[prop]):
        w = who[pa_i]
        tpl = (templates[cell[pa_i]] if shared[pa_i] and tpl_use[j] < .8 else
               studio_tpl[house[pa_i]] if stu[pa_i] and tpl_use[j] < .4 else None)
        texts.append(w.cover(rng) if tpl is None else tpl.replace("{name}", w.first).replace(
            "{skill}", w.skills[0]).replace("{years}", str(w.years)))
    bid = rng.lognormal(np.log(rng.uniform(15, 60, n))[acc[prop]], .8)
    tx.write(folder, "proposals", {
        "proposal_id": pa.array([f"pr{i:07d}" for i in range(len(prop))]),
        "account_id": pa.array(ids).take(pa.array(acc[prop])),
        "job_id": pa.array([f"j{x:06d}" for x in rng.integers(0, 6 * n, len(prop))]),
        "submitted_at": _ts(ats[prop]), "cover_text": pa.array(texts),
        "bid_usd": np.round(bid * rng.uniform(5, 40, len(prop)), 0)})
    # --- labels: 40% of the fronts confirmed; five times as many honest accounts cleared ----
    bad = rng.permutation(np.flatnonzero(fronted))[:round(.4 * nf)]
    alike = rng.permutation(np.flatnonzero(group != ""))
    plain = rng.permutation(np.flatnonzero(~fronted & (group == "")))
    good = np.concatenate([alike[:round(3.5 * len(bad))], plain[:round(1.5 * len(bad))]])
    who_d = np.concatenate([bad, good])
    lab = np.r_[np.ones(len(bad)), np.zeros(len(good))].astype(np.int8)
    lo = np.maximum(DECIDE_FROM, created[who_d] + 30 * DAY)
    ok = lo < DECIDE_TO
    when = lo + rng.random(len(who_d)) * (DECIDE_TO - lo)
    src = np.where(rng.random(len(who_d)) < np.where(lab == 1, .6, .1), "enforcement", "review")
    tx.write(folder, "labels", {
        "account_id": pa.array(ids[who_d[ok]]), "label": pa.array(lab[ok], pa.int8()),
        "decided_at": _ts(when[ok]), "source": pa.array(src[ok].tolist())},
        np.argsort(when[ok], kind="stable"))
    return {"account_id": ids, "fronted": fronted, "group": group.astype(str)}
