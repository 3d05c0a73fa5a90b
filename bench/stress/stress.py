#!/usr/bin/env python3
"""gannet serve stress suite (issue 6): the crawl4ai server's own stress pipeline, done
against a loopback site (the Rust docs on nginx, ../shared/bench/serve-rustdoc.sh).

usage: bench/stress/stress.py [--bin target/release/gannet] [--steps 1,2,...] [--quick]

Starts `gannet serve` with bench/stress/gannet.toml (rate limit off, private addresses
allowed, short browser TTLs so idle cleanup shows within the run), then runs:

  1  health latency (wrk, 1 connection)
  2  memory over 1,000 sequential /md requests (server RSS before, every 100, after)
  3  pool reuse: default-config renders all hit the permanent browser
  4  concurrency 10/50/100 on /md (distinct pages and one page) and on /crawl:
     errors, p50/p99, RSS peak; plus /md at 64 clients (the issue's p99 < 50 ms target)
  5  mixed browser configs: promotion to hot, reuse rate
  6  every endpoint of /openapi.json answers (no 5xx but deliberate 502/503)
  7  idle cleanup: process-tree memory returns after a render spike
  8  100,000 /md requests: RSS sampled over the run (flat?)
  9  100 concurrent render requests: nothing but 200 and deliberate 503, none hung

Prints one Markdown report on stdout (for BENCHMARKS.md); progress on stderr.
Needs wrk (apt-get install wrk) and chromium. Standard library only.
"""
import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PORT = 11297
SITE = "http://127.0.0.1:8088"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def tree_pids(pid):
    """pid and all its descendants."""
    children = {}
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            children.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError):
            pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_rss_mb(pid):
    return sum(rss_mb(p) for p in tree_pids(pid))


class Server:
    def __init__(self, binary, config):
        self.data = tempfile.mkdtemp(prefix="gannet-stress-")
        self.proc = subprocess.Popen(
            [binary, "serve", "--config", config, "--data-dir", self.data, "--quiet"],
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if self.get("/health")[0] == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("gannet serve did not come up")

    def request(self, method, path, body=None, timeout=120):
        c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=timeout)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data is not None else {}
        c.request(method, path, body=data, headers=headers)
        r = c.getresponse()
        payload = r.read()
        c.close()
        return r.status, payload

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body, timeout=120):
        return self.request("POST", path, body, timeout)

    def metrics(self):
        text = self.get("/metrics")[1].decode()
        out = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    out[name] = float(value)
                except ValueError:
                    pass
        return out

    def rss(self):
        return rss_mb(self.proc.pid)

    def tree_rss(self):
        return tree_rss_mb(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        subprocess.run(["rm", "-rf", self.data])


def wrk(path, body_lua, conns, secs, urls_file=None):
    """Runs wrk; returns requests/s, p50, p90, p99 (ms), errors, total requests."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(body_lua)
        script = f.name
    env = dict(os.environ)
    if urls_file:
        env["URLS"] = urls_file
    out = subprocess.run(
        ["wrk", f"-t{min(2, conns)}", f"-c{conns}", f"-d{secs}s", "--timeout", "60s",
         "--latency", "-s", script, f"http://127.0.0.1:{PORT}{path}"],
        capture_output=True, text=True, env=env,
    ).stdout
    os.unlink(script)

    def ms(label):
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)
    return {"rps": rps, "p50": ms("50%"), "p90": ms("90%"), "p99": ms("99%"),
            "errors": errors, "total": total}


POST_ONE = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '%s'
"""

POST_CYCLE = """local urls = {}
for line in io.lines(os.getenv("URLS")) do urls[#urls + 1] = line end
local i = math.random(#urls)
request = function()
  i = i %% #urls + 1
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, string.format('%s', urls[i]))
end
"""


def md_one(url):
    return POST_ONE % json.dumps({"url": url})


def md_cycle():
    return POST_CYCLE % '{"url": "%s"}'


def md_http_cycle():
    """/md on the HTTP-only path (render never): the issue's "/md (HTTP mode)" target."""
    return POST_CYCLE % '{"url": "%s", "render": "never"}'


def crawl_cycle():
    return POST_CYCLE % '{"urls": ["%s"]}'


def with_peak(server, fn):
    """Runs fn() while sampling the server tree's RSS; returns (result, peak MB)."""
    peak = [server.tree_rss()]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], server.tree_rss())
            time.sleep(0.2)

    t = threading.Thread(target=sample)
    t.start()
    try:
        result = fn()
    finally:
        done.set()
        t.join()
    return result, peak[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/gannet"))
    ap.add_argument("--steps", default="1,2,3,4,5,6,7,8,9")
    ap.add_argument("--quick", action="store_true", help="shorter runs (smoke test)")
    ap.add_argument("--secs", type=int, default=15, help="seconds per wrk run")
    ap.add_argument("--requests-8", type=int, default=100_000)
    a = ap.parse_args()
    steps = {int(s) for s in a.steps.split(",")}
    secs = 3 if a.quick else a.secs
    urls_file = os.path.join(tempfile.gettempdir(), "gannet-stress-urls.txt")
    with open(urls_file, "w") as f:
        subprocess.run([sys.executable, os.path.join(ROOT, "bench/render/urls.py"), "--n", "500"],
                       stdout=f, stderr=subprocess.DEVNULL, check=True)
    page = f"{SITE}/std/index.html"
    chromium_before = len(subprocess.run(["pgrep", "chromium"], capture_output=True, text=True).stdout.split())
    server = Server(a.bin, os.path.join(HERE, "gannet.toml"))
    report = ["| step | figure |", "| --- | --- |"]

    def row(step, text):
        report.append(f"| {step} | {text} |")
        log(f"[{step}] {text}")

    try:
        if 1 in steps:
            r = wrk("/health", 'wrk.method = "GET"\n', 1, secs)
            row("1 health, 1 client", f"p50 {r['p50']:.2f} ms, p99 {r['p99']:.2f} ms, {r['rps']:.0f} req/s, {r['errors']} errors")
        if 2 in steps:
            n = 200 if a.quick else 1000
            samples = [server.rss()]
            errors = 0
            with open(urls_file) as f:
                urls = [u.strip() for u in f if u.strip()]
            t0 = time.time()
            for i in range(n):
                status, _ = server.post("/md", {"url": urls[i % len(urls)]})
                errors += status != 200
                if (i + 1) % 100 == 0:
                    samples.append(server.rss())
            took = time.time() - t0
            half = samples[len(samples) // 2:]
            row("2 sequential /md", f"{n} requests in {took:.1f} s, {errors} errors; server RSS {samples[0]:.0f} MB before, "
                f"{' → '.join(f'{s:.0f}' for s in samples[1:])} MB every 100; second half spread {max(half) - min(half):.1f} MB")
        if 3 in steps:
            n = 10 if a.quick else 30
            before = server.metrics()
            fails = 0
            for i in range(n):
                status, _ = server.post("/screenshot", {"url": f"{SITE}/std/index.html"})
                fails += status != 200
            m = server.metrics()
            hits = {t: m.get(f'gannet_browser_hits_total{{tier="{t}"}}', 0) - before.get(f'gannet_browser_hits_total{{tier="{t}"}}', 0)
                    for t in ("permanent", "hot", "cold")}
            total = sum(hits.values()) or 1
            row("3 pool reuse (default config)", f"{n} renders, {fails} failed; permanent {hits['permanent']:.0f} / {total:.0f} = "
                f"{100 * hits['permanent'] / total:.0f}%; launches {m.get('gannet_browser_launches_total', 0):.0f}")
        if 4 in steps:
            for conns in (10, 50, 64, 100):
                r, peak = with_peak(server, lambda: wrk("/md", md_cycle(), conns, secs, urls_file))
                row(f"4 /md, {conns} clients, 500 distinct pages", f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                    f"{r['errors']} errors of {r['total']}; tree RSS peak {peak:.0f} MB")
            for conns in (10, 64, 100):
                r, peak = with_peak(server, lambda: wrk("/md", md_http_cycle(), conns, secs, urls_file))
                row(f"4 /md HTTP mode (render never), {conns} clients, 500 distinct pages",
                    f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                    f"{r['errors']} errors of {r['total']}; tree RSS peak {peak:.0f} MB")
            # One page under distinct URLs (a query string nginx ignores): every request
            # is its own fetch and extraction, nothing shared by coalescing.
            busted = os.path.join(tempfile.gettempdir(), "gannet-stress-one-page.txt")
            with open(busted, "w") as f:
                f.writelines(f"{page}?n={i}\n" for i in range(100_000))
            for conns in (10, 64, 100):
                r, peak = with_peak(server, lambda: wrk("/md", md_http_cycle(), conns, secs, busted))
                row(f"4 /md HTTP mode, {conns} clients, one page under distinct URLs (no coalescing)",
                    f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                    f"{r['errors']} errors of {r['total']}; tree RSS peak {peak:.0f} MB")
            for conns in (10, 64, 100):
                r, peak = with_peak(server, lambda: wrk("/md", md_one(page), conns, secs))
                row(f"4 /md, {conns} clients, one page", f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                    f"{r['errors']} errors of {r['total']}; tree RSS peak {peak:.0f} MB")
            for conns in (10, 50, 100):
                r, peak = with_peak(server, lambda: wrk("/crawl", crawl_cycle(), conns, secs, urls_file))
                row(f"4 /crawl, {conns} clients", f"{r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms, "
                    f"{r['errors']} errors of {r['total']}; tree RSS peak {peak:.0f} MB")
        if 5 in steps:
            before = server.metrics()
            # A browser's signature is its launch config (user agent, text mode, ...);
            # viewports are per tab. None: the default config.
            configs = [None] * 4 + ["stress-hot/1.0"] * 5 + ["stress-rare-a/1.0", "stress-rare-b/1.0"]
            fails = 0
            for ua in configs:
                params = {"user_agent": ua} if ua else {}
                status, _ = server.post("/crawl", {
                    "urls": [f"{SITE}/std/index.html"],
                    "browser_config": {"type": "BrowserConfig", "params": params},
                    "crawler_config": {"type": "CrawlerRunConfig", "params": {"screenshot": True}},
                })
                fails += status != 200
            m = server.metrics()
            hits = {t: m.get(f'gannet_browser_hits_total{{tier="{t}"}}', 0) - before.get(f'gannet_browser_hits_total{{tier="{t}"}}', 0)
                    for t in ("permanent", "hot", "cold")}
            browsers = {t: m.get(f'gannet_browsers{{tier="{t}"}}', 0) for t in ("permanent", "hot", "cold")}
            launches = m.get("gannet_browser_launches_total", 0) - before.get("gannet_browser_launches_total", 0)
            reuse = 1 - launches / len(configs)
            row("5 mixed configs (4 default, 5 × one user agent, 2 rare ones)", f"{fails} failed; hits permanent/hot/cold "
                f"{hits['permanent']:.0f}/{hits['hot']:.0f}/{hits['cold']:.0f}; browsers alive {browsers}; "
                f"{launches:.0f} launches for {len(configs)} renders (reuse {100 * reuse:.0f}%)")
        if 6 in steps:
            spec = json.loads(server.get("/openapi.json")[1])
            bodies = {
                "/md": {"url": page}, "/html": {"url": page}, "/screenshot": {"url": page},
                "/pdf": {"url": page}, "/execute_js": {"url": page, "scripts": ["1+1"]},
                "/crawl": {"urls": [page]}, "/crawl/stream": {"urls": [page]},
                "/v1/scrape": {"url": page}, "/v2/scrape": {"url": page},
                "/v1/map": {"url": f"{SITE}/std/index.html", "limit": 20},
                "/v2/map": {"url": f"{SITE}/std/index.html", "limit": 20},
                "/v1/crawl": {"url": f"{SITE}/std/index.html", "limit": 3},
                "/v2/crawl": {"url": f"{SITE}/std/index.html", "limit": 3},
                "/jobs": {"urls": [page]}, "/crawl/job": {"urls": [page]}, "/token": {"email": "a@b.c"},
            }
            job = json.loads(server.post("/jobs", {"urls": [page]})[1])
            job_id = job.get("id") or job.get("job_id") or "none"
            statuses = {}
            for path, methods in spec["paths"].items():
                if path == "/dashboard/events":
                    continue
                for method in methods:
                    concrete = path.replace("{id}", job_id)
                    if method == "delete":
                        continue
                    status, _ = server.request(method.upper(), concrete, bodies.get(path) if method == "post" else None)
                    statuses[f"{method.upper()} {path}"] = status
            bad = {k: v for k, v in statuses.items() if v >= 500 or v == 404}
            row("6 every endpoint", f"{len(statuses)} operations; "
                f"{sum(1 for v in statuses.values() if v < 300)} × 2xx, others: "
                f"{ {k: v for k, v in statuses.items() if v >= 300} }; unexpected: {bad or 'none'}")
        if 7 in steps:
            def spike():
                threads = []
                for i in range(24):
                    body = {"urls": [f"{SITE}/std/index.html"],
                            "browser_config": {"type": "BrowserConfig", "params": {"user_agent": f"stress-spike-{i % 3}/1.0"}},
                            "crawler_config": {"type": "CrawlerRunConfig", "params": {"screenshot": True}}}
                    t = threading.Thread(target=server.post, args=("/crawl", body))
                    t.start()
                    threads.append(t)
                for t in threads:
                    t.join()
            base = server.tree_rss()
            _, peak = with_peak(server, spike)
            after = [server.tree_rss()]
            wait = 20 if a.quick else 45
            for _ in range(wait // 5):
                time.sleep(5)
                after.append(server.tree_rss())
            m = server.metrics()
            browsers = {t: m.get(f'gannet_browsers{{tier="{t}"}}', 0) for t in ("permanent", "hot", "cold")}
            row("7 idle cleanup", f"tree RSS {base:.0f} MB before, peak {peak:.0f} MB in a spike of 24 renders over 3 non-default configs, "
                f"then every 5 s: {' → '.join(f'{x:.0f}' for x in after)} MB; browsers left {browsers}")
        if 8 in steps:
            target = 20_000 if a.quick else a.requests_8
            samples = []
            done = threading.Event()

            def sample():
                while not done.is_set():
                    samples.append(server.rss())
                    time.sleep(2)

            t = threading.Thread(target=sample)
            t.start()
            total, errors, t0 = 0, 0, time.time()
            while total < target:
                r = wrk("/md", md_cycle(), 32, 20, urls_file)
                total += r["total"]
                errors += r["errors"]
            done.set()
            t.join()
            q = max(1, len(samples) // 4)
            row("8 long run /md (500 pages, 32 clients)", f"{total} requests in {time.time() - t0:.0f} s, {errors} errors; server RSS "
                f"first quarter mean {statistics.mean(samples[:q]):.0f} MB, last quarter {statistics.mean(samples[-q:]):.0f} MB, "
                f"max {max(samples):.0f} MB")
        if 9 in steps:
            results = []
            messages = {}
            lock = threading.Lock()

            def one(i):
                t0 = time.time()
                message = ""
                try:
                    status, body = server.post("/screenshot", {"url": f"{SITE}/std/index.html?r={i}"}, timeout=180)
                    if status != 200:
                        message = json.loads(body).get("error", {}).get("message", "")[:160]
                except Exception as e:  # noqa: BLE001 - a hung or broken request is the finding
                    status, message = "failed", repr(e)
                with lock:
                    results.append((status, time.time() - t0))
                    if message:
                        messages[status] = message

            threads = [threading.Thread(target=one, args=(i,)) for i in range(100)]
            (_, peak) = with_peak(server, lambda: ([t.start() for t in threads], [t.join() for t in threads]))
            counts = {}
            for s, _ in results:
                counts[s] = counts.get(s, 0) + 1
            slowest = max(d for _, d in results)
            row("9 100 concurrent renders", f"answers {counts}; slowest {slowest:.1f} s; tree RSS peak {peak:.0f} MB; "
                f"messages: {messages}")
    finally:
        server.stop()
    time.sleep(1)
    left = len(subprocess.run(["pgrep", "chromium"], capture_output=True, text=True).stdout.split()) - chromium_before
    row("after", f"server stopped (SIGTERM); Chromium processes left: {max(0, left)}")
    print("\n".join(report))


if __name__ == "__main__":
    main()
