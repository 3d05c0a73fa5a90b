#!/usr/bin/env python3
"""crawl4ai's JsonCssExtractionStrategy over HTML files, in one process.

usage: crawl4ai_bench.py SCHEMA LIST OUT.jsonl
LIST names one HTML file per line. Every file is read and decoded (UTF-8, errors
replaced) before the clock starts; the clock covers strategy.extract() per page (parse +
selection), as crawl4ai runs it. Prints {"pages", "seconds", "pages_per_s"} as JSON.
"""
import json
import sys
import time

from crawl4ai.extraction_strategy import JsonCssExtractionStrategy

URL = "https://example.com/page"


def main():
    schema_path, list_path, out_path = sys.argv[1:4]
    schema = json.load(open(schema_path, encoding="utf-8"))
    files = [l.strip() for l in open(list_path, encoding="utf-8") if l.strip()]
    pages = [(f, open(f, "rb").read().decode("utf-8", errors="replace")) for f in files]
    strategy = JsonCssExtractionStrategy(schema)
    results = []
    start = time.perf_counter()
    for name, html in pages:
        try:
            items = strategy.extract(URL, html)
            items = json.loads(json.dumps(items, default=str, ensure_ascii=False))
        except Exception as e:
            items = {"error": f"{type(e).__name__}: {e}"}
        results.append((name, items))
    seconds = time.perf_counter() - start
    with open(out_path, "w", encoding="utf-8") as out:
        for name, items in results:
            out.write(json.dumps({"file": name, "items": items}, ensure_ascii=False) + "\n")
    print(json.dumps({"pages": len(pages), "seconds": round(seconds, 4),
                      "pages_per_s": round(len(pages) / seconds, 2)}))


if __name__ == "__main__":
    main()
