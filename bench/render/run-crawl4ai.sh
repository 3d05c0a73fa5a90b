#!/usr/bin/env bash
# Render benchmark of crawl4ai on this machine's Chromium, on the Rust docs served on
# loopback: a 500-page crawl (arun_many) and warm single-page latency, both measured
# by treemon.py over the whole process tree. Prints a Markdown summary at the end.
#
# usage: bench/render/run-crawl4ai.sh [PORT]        (default 8088)
# env:   N (500 pages), SINGLE_N (20 renders), RUNS (1 crawl run), OUT (target/bench-render),
#        VENV (target/bench-venv, made by setup-crawl4ai.sh), SHARED (../shared),
#        MAX_LOAD: if set, wait (up to WAIT_S, 900 s) for the 1-minute load to drop below it
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${1:-8088}
N=${N:-500}
SINGLE_N=${SINGLE_N:-20}
RUNS=${RUNS:-1}
OUT=${OUT:-target/bench-render}
VENV=${VENV:-target/bench-venv}
SHARED=${SHARED:-../shared}
HERE=bench/render
mkdir -p "$OUT"
[ -x "$VENV/bin/python" ] || bash $HERE/setup-crawl4ai.sh "$VENV"
bash "$SHARED/bench/serve-rustdoc.sh" "$PORT" >/dev/null
python3 $HERE/urls.py --port "$PORT" --n "$N" >"$OUT/urls.txt"

load1() { cut -d' ' -f1 /proc/loadavg; }
settle() { # wait for a quiet machine if MAX_LOAD is set, then log the load
  if [ -n "${MAX_LOAD:-}" ]; then
    local end=$((SECONDS + ${WAIT_S:-900}))
    while awk -v l="$(load1)" -v m="$MAX_LOAD" 'BEGIN{exit !(l >= m)}' && [ $SECONDS -lt $end ]; do sleep 10; done
  fi
  echo "load before $1: $(uptime)" | tee -a "$OUT/load.txt"
}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null)"
  echo "crawl4ai: $("$VENV/bin/python" -c 'from crawl4ai.__version__ import __version__ as v; print(v)')"
  echo "playwright: $("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("playwright"))')"
  echo "urls: $OUT/urls.txt ($(wc -l <"$OUT/urls.txt") pages, md5 $(md5sum <"$OUT/urls.txt" | cut -c1-12))"
} | tee "$OUT/env.txt"
: >"$OUT/load.txt"

for run in $(seq "$RUNS"); do
  settle "crawl run $run"
  python3 $HERE/treemon.py --pss 1 --renders "$N" --csv "$OUT/crawl-$run.csv" --json "$OUT/crawl-$run.tree.json" -- \
    "$VENV/bin/python" $HERE/crawl4ai_bench.py crawl --urls "$OUT/urls.txt" --n "$N" --out "$OUT/crawl-$run.jsonl" \
    >"$OUT/crawl-$run.json" 2>"$OUT/crawl-$run.log" || { tail "$OUT/crawl-$run.log"; exit 1; }
done
settle single
python3 $HERE/treemon.py --pss 1 --renders "$((SINGLE_N + 1))" --csv "$OUT/single.csv" --json "$OUT/single.tree.json" -- \
  "$VENV/bin/python" $HERE/crawl4ai_bench.py single --url "http://127.0.0.1:$PORT/std/index.html" --n "$SINGLE_N" \
  >"$OUT/single.json" 2>"$OUT/single.log" || { tail "$OUT/single.log"; exit 1; }

python3 - "$OUT" "$RUNS" <<'PY'
import json, sys
out, runs = sys.argv[1], int(sys.argv[2])
ld = lambda p: json.load(open(f"{out}/{p}"))
print("\n| run | pages ok/failed | pages/s (arun_many) | pages/s (wall) | wall s | CPU-s/page | peak tree RSS MB | peak tree PSS MB | mean tree RSS MB | leaked | other load (cores) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in range(1, runs + 1):
    c, t = ld(f"crawl-{r}.json"), ld(f"crawl-{r}.tree.json")
    print(f"| crawl {r} | {c['success']}/{c['failed']} | {c['pages_per_s']:.2f} | {c['pages'] / t['wall_s']:.2f} | {t['wall_s']:.1f} "
          f"| {t['cpu_s'] / c['pages']:.2f} | {t['peak_rss_mb']:.0f} | {t.get('peak_pss_mb', 0):.0f} | {t['mean_rss_mb']:.0f} | {len(t['leaked'])} | {t['others_cores']:.2f} |")
s, t = ld("single.json"), ld("single.tree.json")
print(f"\nsingle {s['url']}: {s['renders']} warm renders, p50 {s['p50_ms']:.0f} ms, p90 {s['p90_ms']:.0f} ms "
      f"(min {s['min_ms']:.0f}, max {s['max_ms']:.0f}); launch {s['launch_s']} s; tree: wall {t['wall_s']:.1f} s, "
      f"CPU {t['cpu_s']:.1f} s, peak RSS {t['peak_rss_mb']:.0f} MB, peak PSS {t.get('peak_pss_mb', 0):.0f} MB, leaked {len(t['leaked'])}, other load {t['others_cores']:.2f} cores")
PY
