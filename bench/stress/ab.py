#!/usr/bin/env python3
"""A/B of two gannet builds on /md HTTP mode (render never), interleaved rounds.

usage: bench/stress/ab.py A_BINARY B_BINARY [--conns 64] [--secs 15] [--rounds 2] [--one-page [--page PATH]]

--one-page: one page (--page, default std/index.html) under 100,000 distinct URLs (a query
string nginx ignores), so every request is its own fetch and extraction; default: the 500
distinct pages.

Uses stress.py's server and wrk helpers and bench/stress/gannet.toml; needs the rustdoc
site on nginx (../shared/bench/serve-rustdoc.sh) and wrk. Prints one line per run.
"""
import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import stress  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--secs", type=int, default=15)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--one-page", action="store_true")
    ap.add_argument("--page", default="std/index.html", help="the page of --one-page")
    args = ap.parse_args()
    urls_file = os.path.join(stress.tempfile.gettempdir(), "gannet-ab-urls.txt")
    with open(urls_file, "w") as f:
        if args.one_page:
            f.writelines(f"{stress.SITE}/{args.page}?n={i}\n" for i in range(100_000))
        else:
            subprocess.run([sys.executable, os.path.join(stress.ROOT, "bench/render/urls.py"), "--n", "500"],
                           stdout=f, check=True)
    config = os.path.join(HERE, "gannet.toml")
    for rnd in range(args.rounds):
        for name, binary in (("A", args.a), ("B", args.b)):
            server = stress.Server(binary, config)
            try:
                stress.wrk("/md", stress.md_http_cycle(), args.conns, 3, urls_file)  # warm-up
                r = stress.wrk("/md", stress.md_http_cycle(), args.conns, args.secs, urls_file)
                print(f"round {rnd + 1} {name} {binary}: {r['rps']:.0f} req/s, p50 {r['p50']:.1f} ms, "
                      f"p99 {r['p99']:.1f} ms, {r['errors']} errors", flush=True)
            finally:
                server.stop()
            time.sleep(1)


if __name__ == "__main__":
    main()
