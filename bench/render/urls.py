#!/usr/bin/env python3
"""Print a deterministic list of page URLs from the Rust documentation served on
loopback by shared/bench/serve-rustdoc.sh, one per line (a summary goes to stderr).

usage: urls.py [--port 8088] [--n 500] [--root DOCROOT] > urls.txt

The list is std/index.html, then pages picked at even strides through the sorted HTML
files of std/ (four fifths: module, struct, trait, enum, fn, macro, primitive... pages)
and of the chapters of book/ (one fifth: The Rust Programming Language, an mdBook).
Left out: rustdoc's "Redirection" stubs (meta-refresh pages), the book's old-edition
stubs ("this is an old link" pages, its subdirectories), book/print.html (the whole
book on one page) and anything the docroot's
robots.txt disallows, so a crawler that obeys robots.txt fetches every URL. The same toolchain always gives
the same list, so crawl4ai and gannet render exactly the same pages.
"""
import argparse
import collections
import os
import subprocess
import sys
import urllib.robotparser


def pages(root, sub, robots, top_only=False, marker=None):
    """Sorted docroot-relative paths of the HTML pages under sub."""
    out = []
    for d, dirs, files in os.walk(os.path.join(root, sub)):
        if top_only:
            dirs.clear()
        for f in files:
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if not f.endswith(".html") or not robots.can_fetch("*", "/" + rel):
                continue
            with open(p, "rb") as fh:
                head = fh.read(400)
            if b"<title>Redirection</title>" in head or (marker and marker not in head):
                continue
            out.append(rel)
    return sorted(out)


def spread(items, k):
    """k items at even strides through items (all of them if there are fewer)."""
    if k >= len(items):
        return list(items)
    return [items[i * len(items) // k] for i in range(k)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=8088)
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--root", help="docroot (default: rustc --print sysroot + /share/doc/rust/html)")
    a = ap.parse_args()
    root = a.root or os.path.join(
        subprocess.check_output(["rustc", "--print", "sysroot"], text=True).strip(),
        "share/doc/rust/html")
    robots = urllib.robotparser.RobotFileParser()
    with open(os.path.join(root, "robots.txt")) as f:
        robots.parse(f.read().splitlines())
    n_book = a.n // 5
    std = [p for p in pages(root, "std", robots) if p != "std/index.html"]
    book = [p for p in pages(root, "book", robots, top_only=True, marker=b"mdBook")
            if p != "book/print.html"]  # the whole book on one page
    picked = ["std/index.html"] + spread(std, a.n - n_book - 1) + spread(book, n_book)
    for p in picked:
        print(f"http://127.0.0.1:{a.port}/{p}")
    kinds = collections.Counter(
        "book" if p.startswith("book/") else os.path.basename(p).split(".")[0] for p in picked)
    print(f"{len(picked)} urls from {root}: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common()),
          file=sys.stderr)


if __name__ == "__main__":
    main()
