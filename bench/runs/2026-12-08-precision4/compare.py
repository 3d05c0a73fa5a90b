#!/usr/bin/env python3
"""Snippet-by-snippet comparison of two trafeval runs (score_extraction.py --save-outputs
dirs): where B (trafilatura) drops a 'without' snippet that A (gannet) keeps, and where B
keeps a 'with' snippet that A loses; and the reverse.  For each such snippet, the line of
A's output (or of B's) it sits in, to classify by cause.

usage: compare.py A_OUT B_OUT [--dump FILE.jsonl]   (GANNET_SHARED: default ../shared)"""
import sys, os, json, glob, collections
shared = os.environ.get("GANNET_SHARED", "../shared")
sys.path.insert(0, os.path.join(shared, "eval"))
import score_extraction as se
root = os.path.join(shared, "corpus", "trafilatura-eval")


def outputs(d):
    files = {}
    for p in glob.glob(os.path.join(d, "shard*", "*")):
        b = os.path.basename(p)
        stem, ext = os.path.splitext(b)
        if ext in (".json", ".md", ".txt"):
            files[stem] = p
    return files


def load(files, cid):
    p = files.get(cid)
    if not p:
        return None, {}
    text, meta = se.parse_output(open(p, encoding="utf-8", errors="replace").read())
    if p.endswith(".json"):
        meta = dict(meta, page_type=json.load(open(p)).get("page_type"))
    return text, meta


def finder(text):
    if text is None:
        return lambda s: False, []
    pred = se.strip_markdown(text, keep_list_numbers=True)
    hay = " " + " ".join(se.tokens(pred)) + " "
    lines = text.split("\n")
    tl = [" " + " ".join(se.tokens(se.strip_markdown(l, keep_list_numbers=True))) + " " for l in lines]

    def found(s):
        t = se.tokens(s)
        if not t:
            n = se.norm_ws(s.casefold())
            return bool(n) and n in se.norm_ws(pred.casefold())
        return " ".join(t) in hay

    def line_of(s):
        k = " ".join(se.tokens(s))
        return next((lines[i] for i, x in enumerate(tl) if k and k in x), "")
    return found, line_of


def main():
    a_dir, b_dir = sys.argv[1], sys.argv[2]
    dump = sys.argv[sys.argv.index("--dump") + 1] if "--dump" in sys.argv else None
    fa, fb = outputs(a_dir), outputs(b_dir)
    cnt = collections.Counter()
    recs = []
    for cid in sorted(x for x in os.listdir(root) if os.path.isdir(os.path.join(root, x))):
        t = json.load(open(os.path.join(root, cid, "truth.json")))
        ta, ma = load(fa, cid)
        tb, _ = load(fb, cid)
        a_found, a_line = finder(ta)
        b_found, b_line = finder(tb)
        for kind in ("with", "without"):
            for s in t.get(kind) or []:
                x, y = a_found(s), b_found(s)
                cnt[(kind, x, y)] += 1
                if x != y:
                    who = "A" if x else "B"
                    recs.append({"id": cid, "url": t.get("url"), "pt": ma.get("page_type"),
                                 "kind": kind, "found_by": who, "snip": s,
                                 "line": (a_line(s) if x else b_line(s))[:400]})
    for kind in ("with", "without"):
        print(f"{kind}: both {cnt[(kind, True, True)]}, A only {cnt[(kind, True, False)]}, "
              f"B only {cnt[(kind, False, True)]}, neither {cnt[(kind, False, False)]}")
    print("A worse: 'without' A keeps, B drops:",
          sum(r["kind"] == "without" and r["found_by"] == "A" for r in recs),
          "; 'with' B keeps, A loses:", sum(r["kind"] == "with" and r["found_by"] == "B" for r in recs))
    print("A better: 'without' B keeps, A drops:",
          sum(r["kind"] == "without" and r["found_by"] == "B" for r in recs),
          "; 'with' A keeps, B loses:", sum(r["kind"] == "with" and r["found_by"] == "A" for r in recs))
    if dump:
        with open(dump, "w") as f:
            for r in recs:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")


main()
