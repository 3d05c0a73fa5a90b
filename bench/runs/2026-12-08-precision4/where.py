#!/usr/bin/env python3
"""For each differing snippet of compare.py's dump, where it sits in the page: the
smallest element whose text holds it and that element's ancestors (tag.class#id), so the
differences can be grouped by the markup around them.  Needs lxml (the trafilatura venv).
usage: where.py CMP.jsonl OUT.jsonl   (GANNET_SHARED: default ../shared)"""
import sys, os, json, gzip, re
import lxml.html
shared = os.environ.get("GANNET_SHARED", "../shared")
sys.path.insert(0, os.path.join(shared, "eval"))
import score_extraction as se
root = os.path.join(shared, "corpus", "trafilatura-eval")
recs = [json.loads(l) for l in open(sys.argv[1])]
cache = {}


def tree(cid):
    if cid not in cache:
        raw = gzip.open(os.path.join(root, cid, "source.html.gz")).read()
        try:
            t = lxml.html.fromstring(raw)
        except Exception:
            t = None
        cache.clear()
        cache[cid] = t
    return cache[cid]


def key(s):
    return " " + " ".join(se.tokens(s)) + " "


def label(e):
    c = (e.get("class") or "").strip()
    i = (e.get("id") or "").strip()
    return e.tag + ("." + ".".join(c.split()) if c else "") + ("#" + i if i else "")


with open(sys.argv[2], "w") as out:
    for r in recs:
        t = tree(r["id"])
        k = " ".join(se.tokens(r["snip"]))
        hit = None
        if t is not None and k:
            for e in t.iter():
                if not isinstance(e.tag, str) or e.tag in ("script", "style"):
                    continue
                if k in key(e.text_content()):
                    hit = e  # iter() is document order: keep descending
            # the deepest element in document order holding it is the last one found
            # only if it is a descendant chain; walk down from the root instead
            e = t
            while True:
                nxt = next((c for c in e if isinstance(c.tag, str) and k in key(c.text_content())), None)
                if nxt is None:
                    break
                e = nxt
            hit = e if k in key(e.text_content()) else None
        anc = []
        if hit is not None:
            x = hit
            while x is not None:
                anc.append(label(x))
                x = x.getparent()
        r["el_text"] = re.sub(r"\s+", " ", hit.text_content()).strip()[:300] if hit is not None else None
        r["anc"] = anc
        out.write(json.dumps(r, ensure_ascii=False) + "\n")
