#!/usr/bin/env python3
"""The client of bench/cluster/paging-rss.sh: starts a batch job of RESULTS URLs through
the first replica, waits for it, then pages through all its results (`GET
/jobs/{id}/results?cursor=&limit=PAGE`), page i through replica i mod N, sampling every
replica's RSS (/proc/<pid>/status) as it goes. Prints the figures as a Markdown table.

usage: paging_rss.py SITE_ORIGIN RESULTS PAGE PORT:PID [PORT:PID ...]"""
import json, sys, time, urllib.request

origin, results, page = sys.argv[1].rstrip("/"), int(sys.argv[2]), int(sys.argv[3])
replicas = [tuple(int(x) for x in a.split(":")) for a in sys.argv[4:]]


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise SystemExit(f"no VmRSS for {pid}")


def call(port, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method="POST" if body else "GET",
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.read()


mib = lambda b: b / (1 << 20)
t0 = time.time()
urls = [f"{origin}/p{i}" for i in range(results)]
created = json.loads(call(replicas[0][0], "/jobs", {"urls": urls}))
job = created["id"]
while True:
    st = json.loads(call(replicas[1 % len(replicas)][0], f"/jobs/{job}"))
    if st["status"] == "completed":
        break
    if st["status"] in ("failed", "cancelled"):
        raise SystemExit(f"job ended: {st}")
    time.sleep(1)
produced = time.time() - t0
print(f"job {job}: {st['done']} results produced in {produced:.1f} s (batch job, {len(replicas)} replicas)")

before = [rss(pid) for _, pid in replicas]
samples = [[] for _ in replicas]
served = [0] * len(replicas)
seen, cursor, n, t1 = set(), None, 0, time.time()
warm = None
while True:
    port, pid = replicas[n % len(replicas)]
    path = f"/jobs/{job}/results?limit={page}" + (f"&cursor={cursor}" if cursor is not None else "")
    body = call(port, path)
    served[n % len(replicas)] += len(body)
    v = json.loads(body)
    for r in v["results"]:
        if r["url"] in seen:
            raise SystemExit(f"{r['url']} twice")
        seen.add(r["url"])
    n += 1
    if n == 10 * len(replicas):
        warm = [rss(p) for _, p in replicas]
    if n % 25 == 0:
        for i, (_, p) in enumerate(replicas):
            samples[i].append(rss(p))
    cursor = v.get("next_cursor")
    if cursor is None:
        break
paging = time.time() - t1
after = [rss(pid) for _, pid in replicas]
missing = results - len(seen & set(urls))
print(f"paged {len(seen)} results in {n} pages of {page} in {paging:.1f} s "
      f"({n / paging:.0f} pages/s); missing {missing}, each once: {len(seen) == results}")
print()
print("| replica | served (MiB) | RSS before paging (MiB) | after 10 pages each | max while paging | after | after / after 10 pages |")
print("|---|---:|---:|---:|---:|---:|---:|")
for i in range(len(replicas)):
    peak = max(samples[i] + [after[i]])
    print(f"| {i + 1} | {mib(served[i]):.1f} | {mib(before[i]):.1f} | {mib(warm[i]):.1f} | {mib(peak):.1f} | "
          f"{mib(after[i]):.1f} | {after[i] / warm[i]:.3f} |")
print()
print("RSS samples every 25 pages (MiB):")
for i in range(len(replicas)):
    print(f"  replica {i + 1}: " + " ".join(f"{mib(s):.0f}" for s in samples[i]))
