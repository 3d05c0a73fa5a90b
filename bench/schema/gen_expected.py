#!/usr/bin/env python3
"""Write crawl4ai's own output for every fixture of crates/schema/tests/fixtures.

Run once, in a venv with crawl4ai (bench/schema/setup.sh), whenever a fixture changes:
    /work/venvs/crawl4ai/bin/python bench/schema/gen_expected.py
For each fixture directory holding page.html and any of css.json, xpath.json, regex.json,
writes <kind>.expected.json: the list crawl4ai's strategy returns, passed through
json.dumps(default=str) as crawl4ai's crawler does, or {"error": ...} when crawl4ai raises.
"""
import json
import pathlib
import sys

from crawl4ai.__version__ import __version__
from crawl4ai.extraction_strategy import (
    JsonCssExtractionStrategy,
    JsonXPathExtractionStrategy,
    RegexExtractionStrategy,
)

URL = "https://example.com/page"
ROOT = pathlib.Path(__file__).resolve().parents[2] / "crates/schema/tests/fixtures"


def run(kind, spec, html):
    if kind == "css":
        strategy = JsonCssExtractionStrategy(spec)
    elif kind == "xpath":
        strategy = JsonXPathExtractionStrategy(spec)
    else:
        strategy = RegexExtractionStrategy(spec.get("pattern", 0), custom=spec.get("custom"))
    try:
        out = strategy.extract(URL, html)
    except Exception as e:  # crawl4ai fails the page
        return {"error": f"{type(e).__name__}: {e}"}
    return json.loads(json.dumps(out, default=str, ensure_ascii=False))


def main():
    dirs = sorted(p for p in ROOT.iterdir() if (p / "page.html").exists())
    for d in dirs:
        html = (d / "page.html").read_text(encoding="utf-8")
        for kind in ("css", "xpath", "regex"):
            spec_path = d / f"{kind}.json"
            if not spec_path.exists():
                continue
            spec = json.loads(spec_path.read_text(encoding="utf-8"))
            out = run(kind, spec, html)
            (d / f"{kind}.expected.json").write_text(
                json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
            )
            n = len(out) if isinstance(out, list) else out
            print(f"{d.name}/{kind}: {n}", file=sys.stderr)
    print(f"crawl4ai {__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
