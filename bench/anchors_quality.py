"""trafilatura as a batch extractor for ../shared/eval/score_extraction.py (the quality anchor,
scored per page type beside gannet). Usage, from a venv with trafilatura:
  score_extraction.py wceb --root ../shared/corpus/wcxb-dev \
    --batch-cmd "VENV/bin/python bench/anchors_quality.py {list} {outdir}" -j 1
Writes {outdir}/<stem>.md per input; a page trafilatura fails on gets an empty output."""
import sys, pathlib, trafilatura
lst, out = sys.argv[1], pathlib.Path(sys.argv[2])
for line in open(lst):
    p = pathlib.Path(line.strip())
    if not p.name: continue
    html = p.read_bytes().decode("utf-8", "replace")
    try:
        md = trafilatura.extract(html, output_format="markdown", with_metadata=False) or ""
    except Exception:
        md = ""
    (out / (p.name[:-5] + ".md")).write_text(md)
