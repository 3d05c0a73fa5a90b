#!/usr/bin/env python3
"""Summarizes the LLM bench's JSON lines: per tool, latency per page (p50, p95, mean),
prompt and completion tokens per page, requests, and exact-value accuracy against
pages/truth.json (fields equal after trimming; pages fully right).
usage: compare.py TRUTH NAME=FILE.jsonl..."""
import json, statistics, sys


def pct(xs, p):
    xs = sorted(xs)
    k = (len(xs) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


truth = json.load(open(sys.argv[1]))
rows = []
for arg in sys.argv[2:]:
    name, path = arg.split("=", 1)
    lines = [json.loads(l) for l in open(path) if l.strip()]
    ms = [l["ms"] for l in lines]
    fields = right_pages = 0
    total_fields = 0
    for l in lines:
        want = truth[l["file"]]
        got = l["value"] if isinstance(l["value"], dict) else {}
        ok = [str(got.get(k, "")).strip() == v for k, v in want.items()]
        fields += sum(ok)
        total_fields += len(ok)
        right_pages += all(ok)
    rows.append((name, len(lines), pct(ms, 0.5), pct(ms, 0.95), statistics.mean(ms),
                 statistics.mean(l["prompt_tokens"] for l in lines),
                 statistics.mean(l["completion_tokens"] for l in lines),
                 statistics.mean(l["requests"] for l in lines),
                 fields / max(total_fields, 1), right_pages, sum(1 for l in lines if l["error"])))
print("| run | pages | p50 ms | p95 ms | mean ms | prompt tok/page | completion tok/page | requests/page | fields exact | pages all exact | errors |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]:.0f} | {r[3]:.0f} | {r[4]:.0f} | {r[5]:.0f} | {r[6]:.1f} | {r[7]:.1f} | {r[8]:.3f} | {r[9]}/{r[1]} | {r[10]} |")
