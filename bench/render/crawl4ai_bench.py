#!/usr/bin/env python3
"""Render pages to Markdown with crawl4ai on Debian's Chromium (run it under treemon.py).

usage: crawl4ai_bench.py crawl  --urls FILE [--n 500] [--out FILE.jsonl]
       crawl4ai_bench.py single --url URL [--n 20]
common: [--chromium /usr/bin/chromium]

crawl:  one AsyncWebCrawler, arun_many over the first N URLs with crawl4ai's defaults
        (its MemoryAdaptiveDispatcher: 5 pages at a time, a per-domain RateLimiter of
        0.1-0.4 s; DefaultMarkdownGenerator; cache bypassed), then prints pages/s of
        the arun_many call, successes and failures.
single: launch once, one warm-up render, then N sequential arun() calls of the same
        URL; prints p50/p90/min/max milliseconds per render (page load + Markdown).
Prints one JSON line on stdout.

crawl4ai's BrowserConfig has no executable path: it launches Playwright's own
Chromium build, which cannot be downloaded here. This script adds Playwright's
`executable_path` to the launch arguments crawl4ai builds (BrowserManager.
_build_browser_args), so crawl4ai's default launch path is kept and only the binary
differs. The Chromium flags for running as root without background connections go
in BrowserConfig.extra_args.
"""
import argparse
import asyncio
import json
import os
import statistics
import sys
import time

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
os.environ.setdefault("CRAWL4AI_NO_CLOUD_NOTICE", "1")
from crawl4ai import AsyncWebCrawler, BrowserConfig, CacheMode, CrawlerRunConfig  # noqa: E402
from crawl4ai.__version__ import __version__ as c4a_version  # noqa: E402
from crawl4ai.browser_manager import BrowserManager  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def use_chromium(path):
    build = BrowserManager._build_browser_args

    def build_with_path(self):
        args = build(self)
        args["executable_path"] = path
        return args

    BrowserManager._build_browser_args = build_with_path


def configs():
    browser = BrowserConfig(browser_type="chromium", headless=True, extra_args=FLAGS, verbose=False)
    run = CrawlerRunConfig(cache_mode=CacheMode.BYPASS, verbose=False)  # markdown: the default generator
    return browser, run


def md_len(r):
    return len(r.markdown.raw_markdown) if r.success and r.markdown else 0


async def crawl(a):
    with open(a.urls) as f:
        urls = [u.strip() for u in f if u.strip()][:a.n]
    browser, run = configs()
    t0 = time.perf_counter()
    async with AsyncWebCrawler(config=browser) as crawler:
        t1 = time.perf_counter()
        results = await crawler.arun_many(urls, config=run)
        t2 = time.perf_counter()
    ok = [r for r in results if r.success]
    bad = [r for r in results if not r.success]
    if a.out:
        with open(a.out, "w") as f:
            for r in results:
                f.write(json.dumps({"url": r.url, "success": r.success, "status": r.status_code,
                                    "error": r.error_message or None,
                                    "markdown": r.markdown.raw_markdown if r.success and r.markdown else None}) + "\n")
    return {"mode": "crawl", "pages": len(urls), "success": len(ok), "failed": len(bad),
            "launch_s": round(t1 - t0, 2), "crawl_s": round(t2 - t1, 2),
            "pages_per_s": round(len(ok) / (t2 - t1), 3),
            "markdown_chars_mean": round(sum(map(md_len, ok)) / max(1, len(ok))),
            "errors": sorted({(r.error_message or "")[:120] for r in bad})[:5]}


async def single(a):
    browser, run = configs()
    ms, chars = [], 0
    t0 = time.perf_counter()
    async with AsyncWebCrawler(config=browser) as crawler:
        t1 = time.perf_counter()
        warm = await crawler.arun(a.url, config=run)
        if not warm.success:
            sys.exit(f"warm-up render failed: {warm.error_message}")
        for _ in range(a.n):
            s = time.perf_counter()
            r = await crawler.arun(a.url, config=run)
            ms.append((time.perf_counter() - s) * 1000)
            if not r.success:
                sys.exit(f"render failed: {r.error_message}")
            chars = md_len(r)
    q = statistics.quantiles(ms, n=10, method="inclusive")
    return {"mode": "single", "url": a.url, "renders": a.n, "launch_s": round(t1 - t0, 2),
            "p50_ms": round(statistics.median(ms), 1), "p90_ms": round(q[8], 1),
            "min_ms": round(min(ms), 1), "max_ms": round(max(ms), 1), "markdown_chars": chars}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("mode", choices=["crawl", "single"])
    ap.add_argument("--urls", help="crawl: file of URLs, one per line")
    ap.add_argument("--url", default="http://127.0.0.1:8088/std/index.html")
    ap.add_argument("--n", type=int, help="pages (crawl, default 500) or timed renders (single, default 20)")
    ap.add_argument("--out", help="crawl: write url, status, error, markdown per page as JSONL")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    a = ap.parse_args()
    if a.mode == "crawl" and not a.urls:
        ap.error("crawl needs --urls")
    a.n = a.n or (500 if a.mode == "crawl" else 20)
    use_chromium(a.chromium)
    rep = asyncio.run(crawl(a) if a.mode == "crawl" else single(a))
    rep.update(crawl4ai=c4a_version, chromium=a.chromium)
    print(json.dumps(rep))


if __name__ == "__main__":
    main()
