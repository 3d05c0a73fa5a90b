#!/usr/bin/env python3
"""Group compare.py's differing snippets by the markup that decides them in trafilatura's
pipeline (run in the trafilatura venv: uses its own XPath rules).  For each snippet, the
smallest element holding it in the source, then the first of: a figure/figcaption around
it (trafilatura drops <figure> without images); another tag trafilatura cleans (aside,
footer, form, nav, noscript, button, time, ...); hidden markup (display:none, aria-hidden,
'hidden' names); its class/id discard names (share, newsletter, author, nav, related,
meta, teaser, ...); the snippet only in <head>/<script> (text the page shows elsewhere, in
pieces); else 'other' (link density, body choice, trailing headings, duplicates).
usage: classify.py WHERE_IN.jsonl(compare.py --dump) OUT.jsonl"""
import sys, os, json, gzip, collections
import lxml.html
from trafilatura import xpaths, settings
shared = os.environ.get("GANNET_SHARED", "../shared")
sys.path.insert(0, os.path.join(shared, "eval"))
import score_extraction as se
root = os.path.join(shared, "corpus", "trafilatura-eval")
CLEANED = set(settings.MANUALLY_CLEANED) - {"figure", "head", "script"}
recs = [json.loads(l) for l in open(sys.argv[1])]


def key(s):
    return " " + " ".join(se.tokens(s)) + " "


cur = {}


def page(cid):
    if cur.get("id") != cid:
        raw = gzip.open(os.path.join(root, cid, "source.html.gz")).read()
        t = lxml.html.fromstring(raw)
        marks = {}
        for name, xs in (("hidden", xpaths.OVERALL_DISCARD_XPATH[1:]),
                         ("discard-name", xpaths.OVERALL_DISCARD_XPATH[:1] + xpaths.TEASER_DISCARD_XPATH)):
            for x in xs:
                for e in x(t):
                    marks.setdefault(e, name)
        cur.update(id=cid, t=t, marks=marks)
    return cur["t"], cur["marks"]


def cause(r):
    t, marks = page(r["id"])
    k = " ".join(se.tokens(r["snip"]))
    if not k:
        return "no-token", []
    e = t
    while True:
        nxt = next((c for c in e if isinstance(c.tag, str) and k in key(c.text_content())), None)
        if nxt is None:
            break
        e = nxt
    if e is t and k not in key(t.text_content()):
        return "not-in-one-element", []
    chain = [e] + list(e.iterancestors())
    tags = [x.tag for x in chain if isinstance(x.tag, str)]
    if "head" in tags or "script" in tags or "title" in tags:
        return "head/script", tags
    if "figure" in tags or "figcaption" in tags:
        return "figure", tags
    hit = next((x for x in tags if x in CLEANED), None)
    if hit:
        return "tag:" + hit, tags
    for x in chain:
        if x in marks:
            return marks[x] + ":" + (x.get("class") or x.get("id") or "")[:40], tags
    return "other", tags


out = open(sys.argv[2], "w")
groups = collections.defaultdict(collections.Counter)
for r in recs:
    try:
        c, tags = cause(r)
    except Exception as ex:
        c, tags = "parse-error", []
    r["cause"] = c
    g = c.split(":")[0]
    groups[(r["kind"], r["found_by"])][g] += 1
    out.write(json.dumps(r, ensure_ascii=False) + "\n")
names = {("without", "A"): "'without' kept by gannet only (gannet worse)",
         ("with", "B"): "'with' found by trafilatura only (gannet worse)",
         ("without", "B"): "'without' kept by trafilatura only (gannet better)",
         ("with", "A"): "'with' found by gannet only (gannet better)"}
for k, n in names.items():
    print(n, sum(groups[k].values()))
    for g, v in groups[k].most_common():
        print(f"   {g:22} {v}")
