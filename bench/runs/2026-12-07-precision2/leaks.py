#!/usr/bin/env python3
"""Leaked 'without' snippets in trafeval outputs, with the Markdown line they sit in,
classified heuristically. usage: leaks.py OUTDIR(score_extraction --save-outputs) [--dump FILE]
(GANNET_SHARED: the shared folder, default ../shared)"""
import sys, os, json, re, glob, collections
shared = os.environ.get("GANNET_SHARED", "../shared")
sys.path.insert(0, os.path.join(shared, "eval"))
import score_extraction as se
root = os.path.join(shared, "corpus", "trafilatura-eval")
outdir = sys.argv[1]
dump = sys.argv[sys.argv.index("--dump")+1] if "--dump" in sys.argv else None
files = {}
for p in glob.glob(os.path.join(outdir, "shard*", "*.json")):
    files[os.path.basename(p)[:-5]] = p
classes = collections.Counter()
recs = []
missing = []
for cid in sorted(x for x in os.listdir(root) if os.path.isdir(os.path.join(root,x))):
    t = json.load(open(os.path.join(root, cid, "truth.json")))
    p = files.get(cid)
    if not p: continue
    j = json.load(open(p))
    md = j.get("markdown") or ""
    pt = j.get("page_type")
    lines = md.split("\n")
    toks_lines = [" ".join(se.tokens(se.strip_markdown(l, keep_list_numbers=True))) for l in lines]
    hay = " " + " ".join(se.tokens(se.strip_markdown(md, keep_list_numbers=True))) + " "
    for s in t.get("with") or []:
        tk = " ".join(se.tokens(s))
        if tk and tk not in hay:
            missing.append((cid, pt, s))
    for s in t.get("without") or []:
        tk = " ".join(se.tokens(s))
        if not tk or tk not in hay: continue
        line = next((lines[i] for i, tl in enumerate(toks_lines) if tk in tl), None)
        if line is None: cls = "spans-lines"
        else:
            l = line.strip()
            plain = se.strip_markdown(l)
            linkchars = sum(len(m.group(1)) for m in re.finditer(r"\[([^\]]*)\]\([^)]*\)", l))
            if l.startswith("#"):
                cls = "heading-link" if "](" in l else "heading"
            elif l.startswith("|"):
                cls = "table"
            elif len(plain) < 40:
                cls = "short"
            elif linkchars * 2 >= len(plain):
                cls = "mostly-link"
            elif re.match(r"^[*_(]*(©|\(c\)|foto|photo|bild|quelle|source|credit)", plain.strip().lower()):
                cls = "credit"
            elif l.startswith(("- ", "* ", "+ ")) or re.match(r"^\d+[.)] ", l):
                cls = "list-item"
            else:
                cls = "long"
        classes[(cls)] += 1
        recs.append({"id": cid, "pt": pt, "cls": cls, "snip": s, "line": (line or "")[:300]})
print("leaked", len(recs), "missing with", len(missing))
for k, v in classes.most_common(): print(f"  {k:14} {v}")
bypt = collections.Counter(r["pt"] for r in recs)
print("by page_type:", dict(bypt))
pages = collections.Counter(r["id"] for r in recs)
print("pages with leaks", len(pages), "top:", pages.most_common(10))
if dump:
    with open(dump, "w") as f:
        for r in recs: f.write(json.dumps(r, ensure_ascii=False) + "\n")
        for m in missing: f.write(json.dumps({"missing": m}, ensure_ascii=False) + "\n")
# The README's grouping: a credit marker; a short line with a year; link lines; headings;
# short lines; the rest (prose-like lines in the body).
cre = re.compile(r'©|\(c\)|\bfoto:|\bbild:|\bphoto:|\bphotograph:|\bcredit', re.I)
sem = collections.Counter()
for r in recs:
    line = r["line"]
    plain = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', line)
    if cre.search(line): k = "credit/caption with credit"
    elif len(plain) <= 60 and re.search(r'\b(19|20)\d\d\b', plain): k = "dateline"
    elif r["cls"] in ("mostly-link", "heading-link"): k = "link lines"
    elif r["cls"] == "heading": k = "section labels (headings)"
    elif r["cls"] == "short": k = "short labels/controls"
    else: k = "prose-like lines in the body"
    sem[k] += 1
print("grouped:", dict(sem.most_common()))
