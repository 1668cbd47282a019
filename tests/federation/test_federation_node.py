"""Issue 22, the recipient node's own checks (docs/federation-node.md),
with the three real hubs of test_federation.py (A adria: RS, HR; B
nordic: NO, SE; C baltic: EE, LV) and real agents.  The hubs filter
first; here a hub is *compromised* (its store tampered with while it is
stopped, as tests/adversarial/test_hub_compromise.py does) so that it
serves its node what it should not, and the node alone must refuse it:

- a `region` report of A served by B to NO, a `connected` report of A
  served by C to EE: refused at the node for its distribution (recorded,
  counted by code `distribution`, never shown);
- a report forged by B for NO under a key NO did not endorse (B's roster
  relayed by A to its nodes as B signed it: NO is UNVERIFIED at RS,
  nothing sealed for it), served by a compromised A to RS: refused at RS
  (code `unverified`);
- and what a node shows of the foreign regions (`ewnode peers`, the
  desk), `--to region:NAME` expanded into the signed recipient list, the
  submit-time refusals, and a lessons report to a region two hops away,
  exported there and acknowledged back across both links.
"""

import json
import os
import sqlite3
import time
import urllib.request

from desktest import DeskCase
from ewhtest import EWHUB, EWH_PEER, node_main, wait_for
from test_federation import FedCase


class NodeChecksTest(FedCase, DeskCase):

    def refused(self, cc):
        return json.loads(self.ewnode("refused", "--dir", self.nodes[cc],
                                      "--json").stdout)

    def serve(self, hub, env, cc, level=1):
        """Stop hub, put env in its store as a delivery to cc, start it
        again on the same port (a compromised hub serving its node)."""
        self.assertEqual(self.hub_proc[hub].term(), 0)
        with open(env, "rb") as f:
            blob = f.read()
        rid = bytes.fromhex(os.path.basename(env)[:-4])
        con = sqlite3.connect(os.path.join(self.hubs[hub], "store.db"),
                              timeout=10)
        now = int(time.time())
        con.execute("INSERT INTO envelopes(id, origin, level, created_at,"
                    " expires_at, received_at, hash, env)"
                    " VALUES(?, 'XX', ?, ?, 0, ?, ?, ?)",
                    (rid, level, now, now, os.urandom(32), blob))
        con.execute("INSERT INTO fanout(seq, rcpts, level, expires_at,"
                    " queued_at, waiting) SELECT rowid, ?, ?, 0, ?, 1"
                    " FROM envelopes WHERE id = ?", (cc, level, now, rid))
        con.commit()
        con.close()
        self.hub_up(hub, listen=self.endpoints[hub])
        return rid.hex()

    def raw(self, key, hub, to, to_pub, dist, outdir, title="raw"):
        r = self.run_cmd([EWH_PEER, "submit", "--key", key, "--hub-pub",
                          os.path.join(self.hubs[hub], "hub.pub"),
                          "--endpoint", self.endpoints[hub], "--to", to,
                          "--to-pub", to_pub, "--distribution", dist,
                          "--level", "low", "--title", title,
                          "--env-out", outdir], ok=False)
        acks = [json.loads(x) for x in r.stdout.decode().splitlines()
                if x.strip() and json.loads(x).get("type") == "ack"]
        self.assertEqual(acks[0]["status"], "accepted", r.stdout)
        return acks[0]["id"]

    def test_recipient_refuses_what_travelled_too_far(self):
        self.world()
        # What NO shows of the other regions.
        j = json.loads(self.ewnode("peers", "--dir", self.nodes["NO"],
                                   "--json").stdout)
        self.assertEqual(j["region"], "nordic")
        self.assertEqual(j["hub_peers"], ["adria", "baltic"])
        regions = {r["region"]: r for r in j["foreign"]}
        self.assertEqual(sorted(regions), ["adria", "baltic"])
        self.assertEqual(sorted(p["country"] for p in
                                regions["adria"]["peers"]), ["HR", "RS"])
        for p in regions["adria"]["peers"]:
            self.assertEqual((p["region"], p["verified"], p["trust"]),
                             ("adria", True, "tofu"))
        txt = self.ewnode("peers", "--dir", self.nodes["EE"]).stdout.decode()
        self.assertIn("foreign peers", txt)
        self.assertIn("region adria", txt)
        self.assertIn("region nordic", txt)

        # A raw origin of A (ewh-peer) seals what ewnode refuses to seal.
        me = self.path("peer-ME")
        self.run_cmd([EWH_PEER, "keygen", "--country", "ME", "--out", me])
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["a"],
                      os.path.join(me, "node-ME.pub")])
        for cc in ("NO", "EE"):
            self.wait_foreign(self.nodes[cc], 5)
        # ME is new after adria's first roster: unverified until an
        # officer at NO (EE) compares its fingerprint; they do, so that
        # only the distribution stands in its way.  At NO, an admin does
        # it on the desk's peers page, which lists the foreign peers apart.
        fp_me = self.pub_fingerprint(me, "ME")
        self.verify_peer(self.nodes["EE"], "ME", fp_me)
        # EE's agent serves /metrics from now on.
        self.assertEqual(self.agents["EE"].term(), 0)
        with open(os.path.join(self.nodes["EE"], "ewnode.conf"), "a") as f:
            f.write("metrics = 127.0.0.1:0\n")
        self.agents["EE"] = self.agent_start(self.nodes["EE"], "agent-EE-2")
        with open(os.path.join(self.nodes["NO"], "ewnode.conf"), "a") as f:
            f.write("\n[desk]\n")
        self.desks = {}
        self.add_user("NO", "noadmin", "admin")
        desk = self.desk_start("NO")
        adm = desk.login("noadmin")
        st, _, body = desk.get("/peers", adm)
        self.assertEqual(st, 200)
        self.assertIn("id=foreign-peers", body)
        self.assertRegex(body, r'data-verified="false" data-cc="ME" '
                               r'data-region="adria"')
        self.assertRegex(body, r'data-verified="true" data-cc="RS" '
                               r'data-region="adria"')
        self.assertIn('id="verify-ME"', body)
        tok = desk.csrf(adm)
        st, _, body = desk.post("/peers/verify", {"csrf": tok, "cc": "ME",
                                                  "fingerprint": fp_me}, adm)
        self.assertIn("ME verified", body)
        st, _, body = desk.get("/peers", adm)
        self.assertRegex(body, r'data-verified="true" data-cc="ME" '
                               r'data-region="adria"')
        key = os.path.join(me, "node.key")
        r_id = self.raw(key, "a", "HR",
                        os.path.join(self.nodes["NO"], "node-NO.pub"),
                        "region", me, "region to HR and NO")
        c_id = self.raw(key, "a", "HR",
                        os.path.join(self.nodes["EE"], "node-EE.pub"),
                        "connected", me, "connected to HR and EE")
        self.wait_inbox(self.nodes["HR"], r_id, timeout=60)
        self.wait_inbox(self.nodes["HR"], c_id, timeout=60)
        # The hubs kept them in A (filtered): B and C never had them.
        self.assertIsNone(self.store_envelope("b", r_id))
        self.assertIsNone(self.store_envelope("c", c_id))

        # B, compromised, serves the region report to NO; C the connected
        # one (A is not peered with C) to EE.
        self.serve("b", os.path.join(me, r_id + ".env"), "NO")
        self.serve("c", os.path.join(me, c_id + ".env"), "EE")
        for cc, rid in (("NO", r_id), ("EE", c_id)):
            got = wait_for(lambda cc=cc: self.refused(cc)["total"] or None,
                           timeout=60, what="refusal at " + cc)
            self.assertEqual(got, 1)
            ref = self.refused(cc)
            self.assertEqual(ref["by_code"], {"distribution": 1}, ref)
            self.assertEqual([(x["id"], x["origin"], x["code"])
                              for x in ref["refused"]],
                             [(rid, "ME", "distribution")])
            self.assertNotIn(rid, self.inbox_ids(cc))
            r = self.ewnode("show", "--dir", self.nodes[cc], rid, ok=False)
            self.assertNotEqual(r.returncode, 0)
            log = self.agents[cc].logtext()
            self.assertIn("code=distribution", log)
        self.assertIn("distribution region: may not leave adria",
                      self.agents["NO"].logtext())
        with open(os.path.join(self.nodes["EE"], "metrics_endpoint")) as f:
            ep = f.read().strip()
        line = 'ewnode_deliveries_refused_total{reason="distribution"} 1\n'
        wait_for(lambda: line in urllib.request.urlopen(
            "http://%s/metrics" % ep, timeout=10).read().decode(), 20,
            what="the refusal on EE's /metrics")
        self.assertIn("baltic is not peered with the origin's region adria",
                      self.agents["EE"].logtext())

    def test_recipient_refuses_a_forged_foreign_key(self):
        self.world()
        rs = self.nodes["RS"]
        # B's operator enrols a key for NO that NO did not endorse.
        fake = self.path("fake-NO")
        self.run_cmd([EWH_PEER, "keygen", "--country", "NO", "--out", fake])
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["b"],
                      os.path.join(fake, "node-NO.pub")])
        # A keeps NO's pinned key for itself and relays B's roster, as B
        # signed it, to its nodes, which judge it on their own: at RS, NO
        # is UNVERIFIED (unendorsed), under the forged key.
        wait_for(lambda: self.counters("a", "nordic").get(
            "roster-refused", {}).get("unendorsed-key"),
            timeout=60, what="unendorsed key noticed at A")

        def no_at_rs():
            j = json.loads(self.ewnode("peers", "--dir", rs, "--json").stdout)
            for reg in j["foreign"]:
                for p in reg["peers"]:
                    if p["country"] == "NO" and p["trust"] == "unendorsed":
                        return p
            return None
        p = wait_for(no_at_rs, timeout=60, what="NO unendorsed at RS")
        self.assertFalse(p["verified"])
        self.assertEqual(p["fingerprint"], self.pub_fingerprint(fake, "NO"))
        txt = self.ewnode("peers", "--dir", rs).stdout.decode()
        self.assertRegex(txt, r"NO  \S+  region nordic  UNVERIFIED")
        # Nothing is sealed for NO now.
        r = self.submit(rs, ok=False, level="low", to="NO",
                        distribution="connected", category="other",
                        title="x", body="x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"unverified", r.stderr)
        # A report "from NO" under the forged key: A refuses it on the
        # link; A, compromised, serves it to RS anyway: RS refuses it.
        fid = self.raw(os.path.join(fake, "node.key"), "b", "SE",
                       os.path.join(rs, "node-RS.pub"), "connected", fake,
                       "forged")
        wait_for(lambda: self.counters("a", "nordic").get("refused"),
                 timeout=60, what="A refusing the forged report")
        self.serve("a", os.path.join(fake, fid + ".env"), "RS")
        wait_for(lambda: self.refused("RS")["total"] or None, timeout=60,
                 what="refusal at RS")
        ref = self.refused("RS")
        self.assertEqual(ref["by_code"], {"unverified": 1}, ref)
        self.assertEqual([(x["id"], x["origin"]) for x in ref["refused"]],
                         [(fid, "NO")])
        self.assertNotIn(fid, self.inbox_ids("RS"))
        self.assertIn("which this node does not trust for it",
                      self.agents["RS"].logtext())

    def test_addressing_and_lessons_across_regions(self):
        self.world()
        rs, ee = self.nodes["RS"], self.nodes["EE"]
        # region:NAME is expanded at RS into the signed recipient list.
        rid = self.submit(rs, level="medium", to="HR,region:nordic",
                          distribution="connected", category="other",
                          title="to HR and nordic", body="x")
        out = [m for m in self.outbox(rs) if m["id"] == rid][0]
        self.assertEqual(sorted(out["to"]), ["HR", "NO", "SE"])
        for cc in ("HR", "NO", "SE"):
            m = self.wait_inbox(self.nodes[cc], rid, timeout=60)
            self.assertEqual(m["origin"], "RS")
        self.wait_recipients(rs, rid, {"HR": "delivered", "NO": "delivered",
                                       "SE": "delivered"}, timeout=60)
        s = self.show_json(self.nodes["NO"], rid)
        self.assertEqual((s["distribution"], s["origin_region"]),
                         ("connected", "adria"))
        # The desk's submit form offers the foreign countries too.
        with open(os.path.join(rs, "ewnode.conf"), "a") as f:
            f.write("\n[desk]\n")
        self.desks = {}
        self.add_user("RS", "ana", "analyst")
        desk = self.desk_start("RS")
        ana = desk.login("ana")
        st, _, body = desk.get("/submit", ana)
        self.assertEqual(st, 200)
        self.assertIn('value="NO" data-region="nordic"', body)
        self.assertIn('value="EE" data-region="baltic"', body)
        tok = desk.csrf(ana)
        st, hd, _ = desk.post("/submit", {
            "csrf": tok, "level": "low", "to": "chosen", "cc": ["HR", "SE"],
            "category": "other", "title": "from the desk", "body": "x",
            "distribution": "connected"}, ana)
        self.assertEqual(st, 303)
        did = hd["location"][0].rsplit("/", 1)[1]
        self.wait_inbox(self.nodes["SE"], did, timeout=60)
        self.assertEqual(self.show_json(self.nodes["SE"], did)
                         ["distribution"], "connected")
        # What the distribution cannot reach is refused at submit.
        before = len(self.outbox(rs))
        r = self.submit(rs, ok=False, level="low", to="NO",
                        category="other", title="x", body="x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"distribution region never leaves adria", r.stderr)
        r = self.submit(rs, ok=False, level="low", to="region:baltic",
                        distribution="connected", category="other",
                        title="x", body="x")
        self.assertEqual(r.returncode, 1)
        self.assertIn(b"not directly peered with adria", r.stderr)
        self.assertEqual(len(self.outbox(rs)), before)
        # A lesson learned for the whole of baltic, two hops away.
        lid = self.submit(rs, type="lessons", level="low",
                          to="region:baltic", distribution="all",
                          category="disaster", title="Floods: what worked",
                          body="Pumps first.")
        for cc in ("EE", "LV"):
            self.wait_inbox(self.nodes[cc], lid, timeout=60)
        doc = json.loads(self.ewnode("export", "--dir", ee, "--type",
                                     "lessons").stdout)
        self.assertEqual(doc["region"], "baltic")
        self.assertEqual([(e["id"], e["origin"], e["origin_region"],
                           e["distribution"], e["body"])
                          for e in doc["reports"]],
                         [(lid, "RS", "adria", "all", "Pumps first.")])
        self.wait_recipients(rs, lid, {"EE": "delivered", "LV": "delivered"},
                             timeout=60)
        # EE acknowledges: the signed receipt crosses two links back.
        self.ewnode("ack", "--dir", ee, lid, "--who", "duty officer")
        self.wait_recipients(rs, lid, {"EE": "acknowledged",
                                       "LV": "delivered"}, timeout=60)

    def test_rekey_reseals_for_foreign_addressees(self):
        self.world()
        rs = self.nodes["RS"]
        # A is down: RS's report to NO and SE stays in RS's outbox, sealed
        # with RS's old keys.
        self.assertEqual(self.hub_proc["a"].term(), 0)
        rid = self.submit(rs, level="medium", to="NO,SE",
                          distribution="connected", category="other",
                          title="queued across a re-key", body="x")
        # RS gets new keys; A's operator enrols them while A is down.
        r = self.ewnode("rekey", "--dir", rs)
        new_fp = r.stdout.decode().split("new fingerprint: ")[1].split()[0]
        self.run_cmd([EWHUB, "enroll", "--dir", self.hubs["a"],
                      os.path.join(rs, "node-RS.pub.new")])
        self.hub_up("a", listen=self.endpoints["a"])
        wait_for(lambda: "re-keyed: now using fingerprint " + new_fp in
                 self.agents["RS"].logtext(), 60, what="RS switched keys")
        # The queued report was resealed for its foreign addressees (their
        # keys from nordic's roster) and reaches them under RS's new key.
        for cc in ("NO", "SE"):
            m = self.wait_inbox(self.nodes[cc], rid, timeout=60)
            self.assertEqual(m["origin"], "RS")
        self.wait_recipients(rs, rid, {"NO": "delivered", "SE": "delivered"},
                             timeout=60)
        for cc in ("NO", "SE"):
            self.assertEqual(self.refused(cc)["total"], 0)


if __name__ == "__main__":
    node_main()
