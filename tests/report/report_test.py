#!/usr/bin/env python3
"""report_test.py - `agora report` on a generated alliance with known figures.

Five municipalities publish generated records through the real CLI (JSON
Lines files, bundles carried to the coordinator), including edits
(supersedes) and retractions.  This script computes every figure the report
shows on its own, from the generated data, and checks `agora report
--format json --explain` against it: totals, percentages, on-track flags,
gaps, sums per indicator and unit, sector totals, investment per tonne,
lessons, data quality, and the exact record ids behind each figure.

Usage: report_test.py AGORA_BINARY
"""
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

AGORA = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="agora-report-test.")
FAILS = []

def run(home, *args, stdin=None, check=True):
    p = subprocess.run([AGORA, "--home", home] + list(args), capture_output=True,
                       text=True, input=stdin)
    if check and p.returncode != 0:
        sys.exit("FAIL: agora %s -> %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr))
    return p

def check(cond, what):
    if not cond:
        FAILS.append(what)
        print("FAIL:", what)

def close(a, b):
    return a is not None and b is not None and abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))

KEY_SECTORS = {
    "municipal_buildings": "municipal", "public_lighting": "municipal",
    "tertiary_buildings": "tertiary", "residential_buildings": "residential",
    "transport_municipal_fleet": "transport", "transport_public": "transport",
    "transport_private_commercial": "transport",
}
SECTORS = ["municipal_buildings", "tertiary_buildings", "residential_buildings",
           "public_lighting", "industry", "transport_municipal_fleet", "transport_public",
           "transport_private_commercial", "local_heat_cold_production", "waste", "other"]
STATUSES = ["not_started", "ongoing", "completed", "postponed", "cancelled"]

rng = random.Random(20260601)
# Distinct lesson years: "most recent" is then defined by the year alone.
LESSON_YEARS = list(range(1990, 2026))
rng.shuffle(LESSON_YEARS)

# ------------------------------------------------------------ generate data

def gen_member(name, with_inventory=True, bei_year=2010, n_measures=8):
    """Records of one member as a list of JSON objects with refs."""
    recs = [{"kind": "profile", "ref": "profile", "name": name, "country": "DK",
             "languages": ["da"]}]
    if with_inventory:
        years = [bei_year, bei_year + 5, bei_year + 9]
        base = rng.randint(100, 900) * 1000
        for k, y in enumerate(years):
            factor = [1.0, rng.uniform(0.6, 0.95), rng.uniform(0.55, 1.1)][k]
            n_sec = rng.choice([2, 3, 5, 8])   # some members miss key sectors
            secs = rng.sample(SECTORS, n_sec)
            parts = [rng.randint(1, 100) for _ in secs]
            tot = sum(parts)
            recs.append({"kind": "inventory", "ref": "inv%d" % k, "type": "bei" if k == 0 else "mei",
                         "year": y, "language": "en",
                         "sectors": [{"sector": s, "tco2e": float(round(base * factor * p / tot, 2)),
                                      "mwh": float(p * 10)} for s, p in zip(secs, parts)]})
        # Absolute target with its own baseline (a different year than the BEI).
        recs.append({"kind": "target", "ref": "t-abs", "type": "absolute_reduction",
                     "title": "Mål %s 2030" % name, "language": "da",
                     "baseline_year": bei_year - 2, "baseline_tco2e": float(base * rng.uniform(1.0, 1.3)),
                     "target_year": 2030, "reduction_pct": float(rng.choice([55, 70, 80])),
                     "scope": "territorial"})
        # Net zero without a baseline of its own: falls back on the BEI.
        recs.append({"kind": "target", "ref": "t-nz", "type": "net_zero", "title": "Net zero",
                     "language": "en", "target_year": 2050, "reduction_pct": 100.0})
        # Municipal operations: never evaluated against territorial inventories.
        recs.append({"kind": "target", "ref": "t-ops", "type": "absolute_reduction",
                     "title": "Own operations", "language": "en", "baseline_year": 2015,
                     "baseline_tco2e": 5000.0, "target_year": 2030, "reduction_pct": 90.0,
                     "scope": "municipal_operations"})
    else:
        recs.append({"kind": "target", "ref": "t-nz", "type": "net_zero",
                     "title": "Netto-nul uden basis", "language": "da", "target_year": 2050,
                     "reduction_pct": 100.0})
    for k in range(n_measures):
        m = {"kind": "measure", "ref": "m%d" % k, "title": "Tiltag %d i %s" % (k, name),
             "language": "da", "mitigation": True, "sector": rng.choice(SECTORS),
             "status": rng.choice(STATUSES), "start_year": 2015 + k}
        if rng.random() < 0.8:
            m["reduction_tco2e"] = float(rng.randint(1, 400) * 5)
        if rng.random() < 0.7:
            m["investment"] = float(rng.randint(1, 90) * 100000)
            m["currency"] = rng.choice(["DKK", "DKK", "EUR"])
        recs.append(m)
        for j in range(rng.randint(0, 3)):
            unit, ind = rng.choice([("t CO2e/a", "Reduktion"), ("t CO2e", "Reduktion"),
                                    ("MWh", "Besparelse"), ("MWh", "Reduktion"),
                                    ("kWh", "Besparelse"), ("ha", "Areal")])
            recs.append({"kind": "result", "ref": "r%d_%d" % (k, j), "measure": "@m%d" % k,
                         "year": 2018 + j + k % 3, "indicator": ind, "unit": unit,
                         "value": float(rng.randint(1, 2000)) / 4,
                         "estimation": rng.choice(["estimated", "measured"])})
    for k in range(3):
        recs.append({"kind": "lesson", "ref": "l%d" % k, "title": "Erfaring %d fra %s" % (k, name),
                     "language": rng.choice(["da", "en"]), "sector": rng.choice(SECTORS[:6]),
                     "year": LESSON_YEARS.pop(), "outcome": "x",
                     "tags": rng.sample(["Wetlands", "grants", "Vådområder", "heat"], 2)})
    return recs

def edits(recs):
    """Supersedes and retractions appended after a member's records."""
    out = []
    ms = [r for r in recs if r["kind"] == "measure"]
    # Edit two measures: the new version changes status and reduction.
    for m in ms[:2]:
        new = dict(m)
        new["ref"] = m["ref"] + "-v2"
        new["supersedes"] = "@" + m["ref"]
        new["status"] = "completed" if m["status"] != "completed" else "ongoing"
        new["reduction_tco2e"] = 777.0
        out.append(new)
    # Retract one measure (its results become results without a measure).
    if len(ms) > 3:
        out.append({"kind": "retract", "ref": "x-" + ms[3]["ref"], "target": "@" + ms[3]["ref"],
                    "reason": "test"})
    # Retract one result of another measure, edit one result's value.
    rs = [r for r in recs if r["kind"] == "result" and r["measure"] not in
          ("@" + ms[3]["ref"] if len(ms) > 3 else "",)]
    if rs:
        out.append({"kind": "retract", "ref": "x-" + rs[0]["ref"], "target": "@" + rs[0]["ref"]})
    if len(rs) > 1:
        new = dict(rs[1])
        new["ref"] = rs[1]["ref"] + "-v2"
        new["supersedes"] = "@" + rs[1]["ref"]
        new["value"] = rs[1]["value"] + 1000.0
        out.append(new)
    # Edit the latest inventory (its figures change), edit a lesson.
    invs = [r for r in recs if r["kind"] == "inventory"]
    if invs:
        new = dict(invs[-1])
        new["ref"] = invs[-1]["ref"] + "-v2"
        new["supersedes"] = "@" + invs[-1]["ref"]
        new["sectors"] = [dict(s, tco2e=s["tco2e"] * 0.875) for s in invs[-1]["sectors"]]
        out.append(new)
    ls = [r for r in recs if r["kind"] == "lesson"]
    new = dict(ls[0])
    new["ref"] = ls[0]["ref"] + "-v2"
    new["supersedes"] = "@" + ls[0]["ref"]
    new["title"] = ls[0]["title"] + " (rettet)"
    out.append(new)
    return out

def publish(home, recs):
    """Publish records (one JSONL file); return {ref: id} from the ids printed."""
    path = os.path.join(TMP, "in-%d.jsonl" % rng.randint(0, 1 << 30))
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    p = run(home, "publish", "--file", path)
    ids = p.stdout.split()
    if len(ids) != len(recs):
        sys.exit("FAIL: publish printed %d ids for %d records" % (len(ids), len(recs)))
    return {r["ref"]: i for r, i in zip(recs, ids)}

# ------------------------------------------------------------ build homes

names = ["Alpha Kommune", "Beta Kommune", "Gamma Kommune", "Delta Kommune", "Epsilon Kommune"]
homes = [os.path.join(TMP, "h%d" % i) for i in range(len(names))]
run(homes[0], "init", "--name", names[0], "--country", "DK", "--alliance", "Testalliancen")
charter = os.path.join(TMP, "charter.agb")
run(homes[0], "bundle", "create", charter)

# The coordinator admits the others (Beta as a second coordinator: it
# endorses too), then carries the charter and admissions to them.
for i, name in enumerate(names):
    if i:
        run(homes[i], "init", "--name", name, "--country", "DK")
        key = [l.split()[2] for l in run(homes[i], "whoami").stdout.splitlines()
               if l.startswith("public key")][0]
        run(homes[0], "alliance", "admit", key, "--name", name, "--country", "DK",
            "--role", "coordinator" if i == 1 else "member")
run(homes[0], "bundle", "create", charter)

members = {}     # name -> {"recs": [...], "ids": {ref: id}}
for i, name in enumerate(names):
    if i:
        run(homes[i], "bundle", "import", charter)
        run(homes[i], "alliance", "use", "Testalliancen")
    recs = gen_member(name, with_inventory=(i != 4), bei_year=2008 + i)
    ed = edits(recs)
    ids = publish(homes[i], recs + ed)
    members[name] = {"recs": recs, "edits": ed, "ids": ids, "home": homes[i]}

# The coordinator endorses lessons: one twice (counts once), one through an
# older version (counts for the new one); Beta endorses one too.
alpha_ids = members[names[0]]["ids"]
beta = members[names[1]]
gamma = members[names[2]]
for i in range(1, len(names)):
    b = os.path.join(TMP, "m%d.agb" % i)
    run(homes[i], "bundle", "create", b)
    run(homes[0], "bundle", "import", b)
end_recs = [
    {"kind": "endorsement", "ref": "e1", "target": beta["ids"]["l1"], "note": "god"},
    {"kind": "endorsement", "ref": "e2", "target": beta["ids"]["l1"], "note": "igen"},
    {"kind": "endorsement", "ref": "e3", "target": gamma["ids"]["l0"], "note": "old version"},
    {"kind": "endorsement", "ref": "e4", "target": gamma["ids"]["l2"]},
]
alpha_end = publish(homes[0], end_recs)
# Beta endorses gamma's l2 as well (needs gamma's records first).
run(homes[1], "bundle", "import", os.path.join(TMP, "m2.agb"))
beta_end = publish(homes[1], [{"kind": "endorsement", "ref": "e5", "target": gamma["ids"]["l2"]}])
b = os.path.join(TMP, "m1b.agb")
run(homes[1], "bundle", "create", b)
run(homes[0], "bundle", "import", b)

# A result of a measure that never existed cannot be published (the CLI
# resolves ids), so "results without a measure" come from retracted measures.

# ------------------------------------------------------------ expected model

def final_records(m):
    """The newest, non-retracted version of every record: {ref: (rec, id)}."""
    cur = {}
    origin = {}
    for r in m["recs"]:
        cur[r["ref"]] = (r, m["ids"][r["ref"]])
        origin[r["ref"]] = r["ref"]
    for e in m["edits"]:
        if e["kind"] == "retract":
            tgt = e["target"][1:]
            cur.pop(origin[tgt], None)
        else:
            tgt = e["supersedes"][1:]
            o = origin[tgt]
            origin[e["ref"]] = o
            cur[o] = (e, m["ids"][e["ref"]])
    return cur, origin

def path_value(by, b, ty, tv, y):
    if y >= ty:
        return tv
    if y <= by:
        return b
    return b + (tv - b) * (y - by) / (ty - by)

def expected(year=None, sector=None, only=None):
    exp = {"members": {}, "sectors": {}, "orphans": set(), "no_baseline": set(),
           "lessons": []}
    measure_by_id = {}      # any version id -> origin ref key (member, ref) if live
    live_measures = {}
    for name, m in members.items():
        cur, origin = final_records(m)
        # every version id of a live measure maps to it
        for ref, (r, rid) in cur.items():
            if r["kind"] == "measure":
                for vref, o in origin.items():
                    if o == ref:
                        measure_by_id[m["ids"][vref]] = (name, ref)
        m["cur"], m["origin"] = cur, origin
    for name, m in members.items():
        if only and name not in only:
            continue
        cur = m["cur"]
        recs = [(r, i) for r, i in cur.values()]
        invs = sorted([(r, i) for r, i in recs if r["kind"] == "inventory" and
                       (not year or r["year"] <= year)], key=lambda x: x[0]["year"])
        total = lambda r: sum(s["tco2e"] for s in r["sectors"])
        e = {"n_inv": len(invs), "status": {s: set() for s in STATUSES + ["unspecified"]},
             "sums": {}, "targets": {}}
        bei = [x for x in invs if x[0]["type"] == "bei"]
        e["baseline"] = (bei[0][0]["year"], total(bei[0][0]), {bei[0][1]}) if bei else None
        e["latest"] = (invs[-1][0]["year"], total(invs[-1][0]), invs[-1][1]) if invs else None
        if e["baseline"] and e["latest"] and e["baseline"][1] > 0:
            B = e["baseline"][1]
            e["achieved"] = ((B - e["latest"][1]) / B * 100, e["baseline"][2] | {e["latest"][2]})
        else:
            e["achieved"] = None
        for r, rid in recs:
            if r["kind"] != "target":
                continue
            t = {"ids": {rid}}
            if "baseline_year" in r and "baseline_tco2e" in r:
                t["base"] = (r["baseline_year"], r["baseline_tco2e"])
            elif bei:
                t["base"] = (bei[0][0]["year"], total(bei[0][0]))
                t["ids"].add(bei[0][1])
            else:
                t["base"] = None
                exp["no_baseline"].add(rid)
            if t["base"] and invs and r.get("scope") != "municipal_operations":
                by, B = t["base"]
                tv = B * (1 - r["reduction_pct"] / 100)
                t["ids"].add(invs[-1][1])
                ly, L = e["latest"][0], e["latest"][1]
                if r["target_year"] > by and ly >= by:
                    pv = path_value(by, B, r["target_year"], tv, ly)
                    t["eval"] = (pv, L <= pv, L - pv, (L - pv) / B * 100)
                    # the generator must not produce near-ties
                    assert abs(L - pv) > 1e-3, "tie in generated data"
            e["targets"][rid] = t
        inv_keys = set()
        if invs:
            for s in invs[-1][0]["sectors"]:
                if s["sector"] in KEY_SECTORS and (s["tco2e"] > 0 or s["mwh"] > 0):
                    inv_keys.add(KEY_SECTORS[s["sector"]])
        act_keys = set()
        for ref, (r, rid) in cur.items():
            if r["kind"] != "measure":
                continue
            if sector and r["sector"] != sector:
                continue
            if year and r.get("start_year", 0) > year:
                continue
            live_measures[rid] = r
            e["status"][r["status"]].add(rid)
            if r["status"] != "cancelled" and r["sector"] in KEY_SECTORS:
                act_keys.add(KEY_SECTORS[r["sector"]])
            sec = exp["sectors"].setdefault(r["sector"], {
                "status": {s: set() for s in STATUSES + ["unspecified"]},
                "planned": 0.0, "planned_ids": set(), "est": 0.0, "est_ids": set(),
                "meas": 0.0, "meas_ids": set(), "costs": {}})
            sec["status"][r["status"]].add(rid)
            if r.get("reduction_tco2e"):
                sec["planned"] += r["reduction_tco2e"]
                sec["planned_ids"].add(rid)
        e["com"] = (sorted(inv_keys), sorted(act_keys), len(inv_keys) >= 3 and len(act_keys) >= 2)
        exp["members"][name] = e
    # results
    latest_res = {}     # (measure id, kind) -> (year, rid, value)
    for name, m in members.items():
        for ref, (r, rid) in m["cur"].items():
            if r["kind"] != "result":
                continue
            if only and name not in only:
                continue
            if year and r["year"] > year:
                continue
            mid = m["ids"][r["measure"][1:]]
            if mid not in measure_by_id:
                exp["orphans"].add(rid)
                continue
            mname, mref = measure_by_id[mid]
            mr, mrid = members[mname]["cur"][mref]
            if mrid not in live_measures:
                continue
            key = (r["indicator"], r["unit"])
            s = exp["members"][mname]["sums"].setdefault(key, [0.0, 0, set()])
            s[0] += r["value"]
            s[1] += 1
            s[2].add(rid)
            if r["unit"].replace(" ", "").lower().split("/")[0] == "tco2e":
                k = "meas" if r["estimation"] == "measured" else "est"
                old = latest_res.get((mrid, k))
                if not old or r["year"] > old[0]:
                    assert not old or r["year"] != old[0] or True
                    latest_res[(mrid, k)] = (r["year"], rid, r["value"])
    for mrid, mr in live_measures.items():
        sec = exp["sectors"][mr["sector"]]
        red = mr.get("reduction_tco2e", 0.0)
        extra = set()
        for k in ("est", "meas"):
            if (mrid, k) in latest_res:
                y, rid, v = latest_res[(mrid, k)]
                sec[k] += v
                sec[k + "_ids"].add(rid)
        if (mrid, "meas") in latest_res:
            red = latest_res[(mrid, "meas")][2]
            extra = {latest_res[(mrid, "meas")][1]}
        elif (mrid, "est") in latest_res:
            red = latest_res[(mrid, "est")][2]
            extra = {latest_res[(mrid, "est")][1]}
        if mr.get("investment", 0) > 0 and red > 0:
            c = sec["costs"].setdefault(mr["currency"], [0.0, 0.0, set()])
            c[0] += mr["investment"]
            c[1] += red
            c[2] |= {mrid} | extra
    return exp

# ------------------------------------------------------------ compare

def report(*args):
    p = run(homes[0], "report", "--format", "json", "--explain", *args)
    return json.loads(p.stdout)

def compare(rep, exp, label):
    got_members = {m["name"]: m for m in rep["members"]}
    check(set(got_members) == set(exp["members"]),
          "%s: members %s != %s" % (label, sorted(got_members), sorted(exp["members"])))
    for name, e in exp["members"].items():
        g = got_members.get(name)
        if not g:
            continue
        L = "%s/%s" % (label, name)
        if e["baseline"]:
            check(g["baseline"] and g["baseline"]["year"] == e["baseline"][0] and
                  close(g["baseline"]["value"], e["baseline"][1]) and
                  set(g["baseline"]["records"]) == e["baseline"][2], L + ": baseline")
        else:
            check(g["baseline"] is None, L + ": baseline should be absent")
        if e["latest"]:
            check(g["latest"] and g["latest"]["year"] == e["latest"][0] and
                  close(g["latest"]["value"], e["latest"][1]) and
                  g["latest"]["records"] == [e["latest"][2]], L + ": latest inventory")
        else:
            check(g["latest"] is None, L + ": latest should be absent")
        if e["achieved"]:
            check(g["achieved_pct"] and close(g["achieved_pct"]["value"], e["achieved"][0]) and
                  set(g["achieved_pct"]["records"]) == e["achieved"][1],
                  L + ": achieved %s vs %s" % (g["achieved_pct"], e["achieved"]))
        else:
            check(g["achieved_pct"] is None, L + ": achieved should be absent")
        gt = {t["id"]: t for t in g["targets"]}
        check(set(gt) == set(e["targets"]), L + ": target ids")
        for tid, et in e["targets"].items():
            t = gt.get(tid)
            if not t:
                continue
            check(set(t["records"]) == et["ids"], L + ": target records %s" % t["title"])
            if et["base"] is None:
                check(not t["has_baseline"], L + ": target without baseline")
            else:
                check(t["baseline_year"] == et["base"][0] and close(t["baseline_tco2e"], et["base"][1]),
                      L + ": target baseline")
            if "eval" in et:
                pv, ok, gap, gp = et["eval"]
                check(t["evaluated"] and close(t["path_tco2e"], pv) and t["on_track"] == ok and
                      close(t["gap_tco2e"], gap) and close(t["gap_pp"], gp),
                      L + ": target %s: got %s expected %s" % (t["title"], {k: t.get(k) for k in
                      ("path_tco2e", "on_track", "gap_tco2e", "gap_pp")}, et["eval"]))
            else:
                check(not t["evaluated"], L + ": target %s must not be evaluated" % t["title"])
        for st, ids in e["status"].items():
            gs = g["measures"]["by_status"][st]
            check(gs["value"] == len(ids) and set(gs["records"]) == ids,
                  L + ": measures %s: %s vs %d" % (st, gs["value"], len(ids)))
        gsums = {(s["indicator"], s["unit"]): s for s in g["results"]}
        check(set(gsums) == set(e["sums"]), L + ": result keys %s vs %s" %
              (sorted(gsums), sorted(e["sums"])))
        for k, (v, n, ids) in e["sums"].items():
            s = gsums.get(k)
            check(s and close(s["value"], v) and s["count"] == n and set(s["records"]) == ids,
                  L + ": sum %s" % (k,))
        com = g["covenant"]
        check(com["inventory_key_sectors"] == [k for k in ("municipal", "tertiary", "residential",
              "transport") if k in e["com"][0]] and
              sorted(com["action_key_sectors"]) == e["com"][1] and
              com["meets_minimum"] == e["com"][2], L + ": covenant %s vs %s" % (com, e["com"]))
    gsec = {s["sector"]: s for s in rep["sectors"]}
    check(set(gsec) == set(exp["sectors"]), label + ": sectors")
    tot_planned = tot_est = tot_meas = 0.0
    for name, es in exp["sectors"].items():
        s = gsec.get(name)
        if not s:
            continue
        L = "%s/sector %s" % (label, name)
        for st, ids in es["status"].items():
            check(s["by_status"][st]["value"] == len(ids) and
                  set(s["by_status"][st]["records"]) == ids, L + ": status " + st)
        check(close(s["planned_tco2e"]["value"], es["planned"]) and
              set(s["planned_tco2e"]["records"]) == es["planned_ids"], L + ": planned")
        check(close(s["estimated_tco2e"]["value"], es["est"]) and
              set(s["estimated_tco2e"]["records"]) == es["est_ids"], L + ": estimated")
        check(close(s["measured_tco2e"]["value"], es["meas"]) and
              set(s["measured_tco2e"]["records"]) == es["meas_ids"], L + ": measured")
        gc = {c["currency"]: c for c in s["cost_per_tonne"]}
        check(set(gc) == set(es["costs"]), L + ": cost currencies %s vs %s" % (sorted(gc), sorted(es["costs"])))
        for cur, (inv, red, ids) in es["costs"].items():
            c = gc.get(cur)
            check(c and close(c["investment"], inv) and close(c["reduction_tco2e"], red) and
                  close(c["value"], inv / red) and set(c["records"]) == ids, L + ": cost " + cur)
        tot_planned += es["planned"]
        tot_est += es["est"]
        tot_meas += es["meas"]
    check(close(rep["totals"]["planned_tco2e"], tot_planned), label + ": total planned")
    check(close(rep["totals"]["estimated_tco2e"], tot_est), label + ": total estimated")
    check(close(rep["totals"]["measured_tco2e"], tot_meas), label + ": total measured")
    dq = rep["data_quality"]
    check(set(dq["targets_without_baseline"]) == exp["no_baseline"], label + ": targets without baseline")
    check(set(dq["results_without_measure"]["records"]) == exp["orphans"] and
          dq["results_without_measure"]["count"] == len(exp["orphans"]), label + ": orphan results")
    check(sorted(dq["members_without_inventory"]) ==
          sorted(n for n, e in exp["members"].items() if not e["n_inv"]), label + ": no inventory")
    check(sorted(dq["below_covenant_minimum"]) ==
          sorted(n for n, e in exp["members"].items() if not e["com"][2]), label + ": CoM list")

rep = report()
exp = expected()
compare(rep, exp, "full")

# The data is meant to exercise every path; make sure it does.
check(len(exp["orphans"]) > 0, "generator: some results without a measure")
check(any(t.get("eval") and not t["eval"][1] for e in exp["members"].values() for t in e["targets"].values()),
      "generator: some target off track")
check(any(len({k[1] for k in e["sums"] if k[0] == "Reduktion"}) > 1 for e in exp["members"].values()),
      "generator: one indicator in several units")
check(len(exp["no_baseline"]) == 1, "generator: one target without baseline")

# Mixed units are never summed: each (indicator, unit) is its own row.
for m in rep["members"]:
    keys = [(s["indicator"], s["unit"]) for s in m["results"]]
    check(len(keys) == len(set(keys)), "duplicate indicator/unit rows for " + m["name"])

# Superseded and retracted records never count: no old version id anywhere.
dead = set()
for name, m in members.items():
    for e in m["edits"]:
        if e["kind"] == "retract":
            dead.add(m["ids"][e["target"][1:]])
        else:
            dead.add(m["ids"][e["supersedes"][1:]])
def all_ids(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("records", "id", "lessons", "targets_without_baseline"):
                yield from (v if isinstance(v, list) else [v]) if not isinstance(v, dict) else all_ids(v)
            else:
                yield from all_ids(v)
    elif isinstance(o, list):
        for v in o:
            yield from all_ids(v)
rep_ids = {i for i in all_ids(rep) if isinstance(i, str) and len(i) == 64}
check(not (rep_ids & dead), "superseded/retracted ids appear in the report: %s" % (rep_ids & dead))
check(len(rep_ids) > 50, "explain lists are populated (%d ids)" % len(rep_ids))

# Lessons: endorsements count distinct endorsers, through old versions too.
lessons = {l["id"]: l for grp in ("most_recent", "most_endorsed") for l in rep["lessons"][grp]}
beta_l1 = beta["cur"]["l1"][1]
gamma_l0 = gamma["cur"]["l0"][1]     # newest version of the edited lesson
gamma_l2 = gamma["cur"]["l2"][1]
endorsed = rep["lessons"]["most_endorsed"]
check([l["id"] for l in endorsed][:1] == [gamma_l2] and endorsed[0]["endorsements"] == 2,
      "most endorsed: gamma l2 with 2 endorsers: %s" % endorsed[:1])
check({l["id"]: l["endorsements"] for l in endorsed}.get(beta_l1) == 1, "beta l1 endorsed once (same author twice)")
check({l["id"]: l["endorsements"] for l in endorsed}.get(gamma_l0) == 1, "endorsement of an old version counts")
check(set(next(l for l in endorsed if l["id"] == gamma_l2)["endorsement_records"]) ==
      {alpha_end["e4"], beta_end["e5"]}, "endorsement records of gamma l2")
all_lessons = [(r, i, n) for n, m in members.items() for ref, (r, i) in m["cur"].items() if r["kind"] == "lesson"]
recent = sorted(all_lessons, key=lambda x: (-x[0]["year"], x[1]))[:5]
check([l["id"] for l in rep["lessons"]["most_recent"]] == [x[1] for x in recent], "most recent lessons")
bytag = {}
for r, i, n in all_lessons:
    for t in set(t.lower() for t in r["tags"]):
        bytag.setdefault(t, set()).add(i)
check({g["tag"]: set(g["lessons"]) for g in rep["lessons"]["by_tag"]} == bytag, "lessons by tag")
bysec = {}
for r, i, n in all_lessons:
    bysec.setdefault(r["sector"], set()).add(i)
check({g["sector"]: set(g["lessons"]) for g in rep["lessons"]["by_sector"]} == bysec, "lessons by sector")

# Filters: --year, --sector, --municipality give the figures of the same
# model restricted the same way.
compare(report("--year", "2016"), expected(year=2016), "year 2016")
sec = max(exp["sectors"], key=lambda s: len(exp["sectors"][s]["planned_ids"]))
rs = report("--sector", sec)
es = expected(sector=sec)
check(set(s["sector"] for s in rs["sectors"]) == {sec}, "sector filter keeps one sector")
compare(rs, es, "sector " + sec)
compare(report("--municipality", "gamma"), expected(only={"Gamma Kommune"}), "municipality gamma")

# Without --explain: same figures, no record lists.
plain = json.loads(run(homes[0], "report", "--format", "json").stdout)
check("records" not in plain["members"][0]["baseline"] if plain["members"][0]["baseline"] else True,
      "no records without --explain")
check(plain["totals"] == rep["totals"], "totals equal with and without --explain")

# Other formats carry the same figures.
csvb = subprocess.run([AGORA, "--home", homes[0], "report", "--format", "csv"],
                      capture_output=True).stdout
check(b"\r\n" in csvb, "csv rows end in CRLF")
import csv as csvmod, io
rows = list(csvmod.reader(io.StringIO(csvb.decode(), newline="")))
check(rows[0] == ["section", "row", "column", "header", "value"], "csv header: %s" % rows[:1])
check(all(len(r) == len(rows[0]) for r in rows), "csv is rectangular")
# The results table, put back together from its cells.
res = {}
for sec, row, col, hdr, val in rows[1:]:
    if sec == "results":
        res.setdefault(int(row), {})[col] = val
have = {(c["municipality"], c["indicator"], c["unit"]): c for c in res.values()}
for m in rep["members"]:
    for s in m["results"]:
        c = have.get((m["name"], s["indicator"], s["unit"]))
        check(c is not None and close(float(c["sum"]), s["value"]) and int(c["count"]) == s["count"],
              "csv cells for %s %s %s" % (m["name"], s["indicator"], s["unit"]))
md = run(homes[0], "report", "--format", "markdown", "--lang", "da").stdout
check(md.startswith("# Topmøderapport: Testalliancen") and "| Kommune |" in md, "markdown in Danish")
tab = run(homes[0], "report").stdout
check("Progress of each member" in tab and "Alpha Kommune" in tab, "table output")
tabx = run(homes[0], "report", "--explain").stdout
check(alpha_end["e4"][:12] in tabx, "table --explain names record ids")
# Bad arguments are usage errors.
check(run(homes[0], "report", "--format", "pdf", check=False).returncode == 2, "bad format -> 2")
check(run(homes[0], "report", "--lang", "fr", check=False).returncode == 2, "bad lang -> 2")
check(run(homes[0], "report", "--year", "20x", check=False).returncode == 2, "bad year -> 2")
check(run(homes[0], "report", "--sector", "nope", check=False).returncode == 2, "bad sector -> 2")

shutil.rmtree(TMP)
if FAILS:
    print("%d check(s) failed" % len(FAILS))
    sys.exit(1)
print("report_test: all checks passed")
