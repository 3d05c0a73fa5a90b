#!/usr/bin/env python3
"""Summarise a bench/schema/run.sh run: pages/s of both tools (best round), the ratio, and
the pages whose items are equal, with the first difference of a few others."""
import glob
import json
import sys


def load(path):
    return {r["file"]: r["items"] for r in map(json.loads, open(path, encoding="utf-8"))}


def first_diff(a, b, path=""):
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_diff(x, y, f"{path}[{i}]")
        return f"{path}: {len(a)} items vs {len(b)}"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in b:
            if k not in a:
                return f"{path}.{k}: missing in gannet"
            if a[k] != b[k]:
                return first_diff(a[k], b[k], f"{path}.{k}")
        return f"{path}: extra keys {sorted(set(a) - set(b))}"
    return f"{path}: gannet {json.dumps(a, ensure_ascii=False)[:120]} / crawl4ai {json.dumps(b, ensure_ascii=False)[:120]}"


def best(pattern):
    runs = [json.load(open(p)) for p in sorted(glob.glob(pattern))]
    return max(runs, key=lambda r: r["pages_per_s"])


def main():
    work = sys.argv[1]
    g, c = best(f"{work}/gannet-*.json"), best(f"{work}/crawl4ai-*.json")
    print(f"gannet:   {g['pages']} pages in {g['seconds']:.3f} s = {g['pages_per_s']:.1f} pages/s")
    print(f"crawl4ai: {c['pages']} pages in {c['seconds']:.3f} s = {c['pages_per_s']:.1f} pages/s")
    print(f"ratio:    {g['pages_per_s'] / c['pages_per_s']:.1f}x")
    ours, theirs = load(f"{work}/gannet.jsonl"), load(f"{work}/crawl4ai.jsonl")
    same = [f for f in theirs if ours.get(f) == theirs[f]]
    print(f"equal items: {len(same)} of {len(theirs)} pages")
    fields = {}
    for f in theirs:
        if ours.get(f) != theirs[f]:
            d = first_diff(ours.get(f), theirs[f])
            key = d.split(":")[0].split("[")[0] if d.startswith("[0].") else d[:20]
            key = d.split(":")[0]
            top = key.split(".")[1].split("[")[0] if key.startswith("[0].") else key
            fields.setdefault(top, []).append((f, d))
    for top, diffs in sorted(fields.items(), key=lambda kv: -len(kv[1])):
        print(f"  first difference in `{top}`: {len(diffs)} pages, e.g. {diffs[0][0].split('/')[-1]} {diffs[0][1][:220]}")


if __name__ == "__main__":
    main()
