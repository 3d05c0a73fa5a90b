#!/usr/bin/env bash
# One variant of the 500-page rendered crawl (gannet's defaults: 8 tabs, images, fonts and
# media blocked), measured with treemon like run-gannet.sh, for comparing browser settings
# one at a time. Extra Chromium flags and pool settings come from the environment
# (GANNET_BROWSER_ARGS, GANNET_BROWSER_MEMORY_CAP_MB, GANNET_BROWSER_BIG_PAGE_KB,
# GANNET_BROWSER_GC_OVER_MB, GANNET_BROWSER_DOM_QUIET_MS: see crates/browser/src/pool.rs).
# usage: [MAX_LOAD=1.0 WAIT_S=300 GANNET_BIN=target/release/gannet] bench/render/variant.sh NAME [VAR=VALUE...]
# writes target/bench-render/variants/NAME.{json,log,csv}; prints one summary line (TSV).
set -euo pipefail
cd "$(dirname "$0")/../.."
name=$1; shift
PORT=${PORT:-8088}; TABS=${TABS:-8}
out=target/bench-render; v=$out/variants; mkdir -p "$v"
curl -sfI "http://127.0.0.1:$PORT/std/index.html" >/dev/null || bash ../shared/bench/serve-rustdoc.sh "$PORT" >/dev/null
[ -s "$out/urls.txt" ] || python3 bench/render/urls.py --port "$PORT" --n 500 > "$out/urls.txt"
if [ -n "${MAX_LOAD:-}" ]; then
  end=$(( $(date +%s) + ${WAIT_S:-300} ))
  while awk -v m="$MAX_LOAD" '{exit !($1 > m)}' /proc/loadavg && [ "$(date +%s)" -lt "$end" ]; do sleep 5; done
fi
load=$(cut -d' ' -f1 /proc/loadavg)
rm -rf "$v/$name.out"; mkdir -p "$v/$name.out"
env "$@" python3 bench/render/treemon.py --pss 1 --renders 500 --csv "$v/$name.csv" --json "$v/$name.json" -- \
  "${GANNET_BIN:-target/release/gannet}" crawl $(cat "$out/urls.txt") --out "$v/$name.out/out.jsonl" --render always \
  --max-depth 0 --no-sitemaps --delay 0 --per-host "$TABS" --render-concurrency "$TABS" --max-pages 500 -q \
  2> "$v/$name.log" >/dev/null || true
pages=$(wc -l < "$v/$name.out/out.jsonl")
python3 - "$v/$name.json" "$name" "$pages" "$load" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); name, pages, load = sys.argv[2], int(sys.argv[3]), sys.argv[4]
gb = lambda mb: f"{mb / 1024:.2f}"
print("\t".join([name, f"pages={pages}", f"{pages / r['wall_s']:.2f} p/s", f"{r['cpu_s'] / max(pages, 1):.3f} cpu/p",
      f"rss {gb(r['peak_rss_mb'])}/{gb(r['mean_rss_mb'])}", f"pss {gb(r.get('peak_pss_mb', 0))}/{gb(r.get('mean_pss_mb', 0))}",
      f"procs {r['peak_procs']}", f"leaked {len(r['leaked'])}", f"others {r['others_cores']}", f"load {load}"]))
print("  peak:", ", ".join(f"{k} {n}x{v:.0f}" for k, (n, v) in r["peak_by_role"].items()))
PY
rm -rf "$v/$name.out"
