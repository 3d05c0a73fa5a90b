#!/usr/bin/env bash
# The 500-page rendered crawl, gannet and crawl4ai taking turns in one run, each on both
# of Debian's Chromium binaries: the full browser (/usr/bin/chromium) and the headless
# shell (chromium-headless-shell, which gannet prefers and Playwright launches for
# headless Chromium). Prints each run and the ratios gannet / crawl4ai per round, so a
# busy or drifting machine moves both sides alike.
#
# usage: [ROUNDS=2 MAX_LOAD=1.0 VENV=target/bench-venv] bench/render/side-by-side.sh
# needs: the crawl4ai venv (bench/render/setup-crawl4ai.sh), chromium and
#        chromium-headless-shell installed, the rustdoc site on PORT (started if absent).
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-8088}; ROUNDS=${ROUNDS:-2}; VENV=${VENV:-target/bench-venv}
FULL=${FULL:-/usr/bin/chromium}; SHELL_BIN=${SHELL_BIN:-/usr/lib/chromium/chromium-headless-shell}
out=target/bench-render; sbs=$out/side-by-side; mkdir -p "$sbs"
[ -x "$VENV/bin/python" ] || bash bench/render/setup-crawl4ai.sh "$VENV"
curl -sfI "http://127.0.0.1:$PORT/std/index.html" >/dev/null || bash ../shared/bench/serve-rustdoc.sh "$PORT" >/dev/null
[ -s "$out/urls.txt" ] || python3 bench/render/urls.py --port "$PORT" --n 500 > "$out/urls.txt"
cargo build --release --locked -p gannet >/dev/null 2>&1

quiet() { # wait (up to 5 min) for the 1-minute load to drop below MAX_LOAD
  local end=$((SECONDS + 300))
  while awk -v m="${MAX_LOAD:-1.0}" '{exit !($1 > m)}' /proc/loadavg && [ $SECONDS -lt $end ]; do sleep 5; done
}
c4a() { # NAME BINARY
  quiet
  python3 bench/render/treemon.py --pss 1 --renders 500 --csv "$sbs/$1.csv" --json "$sbs/$1.json" -- \
    "$VENV/bin/python" bench/render/crawl4ai_bench.py crawl --chromium "$2" --urls "$out/urls.txt" \
    --n 500 --out "$sbs/$1.jsonl" > "$sbs/$1.report.json" 2> "$sbs/$1.log"
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["success"])' "$sbs/$1.report.json" > "$sbs/$1.pages"
}
gannet() { # NAME [VAR=VALUE...]
  local name=$1; shift
  MAX_LOAD=${MAX_LOAD:-1.0} bench/render/variant.sh "sbs-$name" "$@" | head -1 | grep -o 'pages=[0-9]*' | cut -d= -f2 > "$sbs/$name.pages"
  cp "$out/variants/sbs-$name.json" "$sbs/$name.json"
}

{ echo "date: $(date -u +%FT%TZ)"; echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "chromium: $($FULL --version 2>/dev/null | head -1)"; } | tee "$sbs/env.txt"
for r in $(seq "$ROUNDS"); do
  c4a "c4a-full-$r" "$FULL"
  gannet "gannet-$r"
  c4a "c4a-shell-$r" "$SHELL_BIN"
  gannet "gannet-full-$r" CHROME_PATH="$FULL"
done

python3 - "$sbs" "$ROUNDS" <<'PY'
import json, sys
d, rounds = sys.argv[1], int(sys.argv[2])
def run(name):
    t = json.load(open(f"{d}/{name}.json")); pages = int(open(f"{d}/{name}.pages").read() or 0)
    return dict(pps=pages / t["wall_s"], cpu=t["cpu_s"] / max(pages, 1), peak=t["peak_rss_mb"] / 1024,
                mean=t["mean_rss_mb"] / 1024, pages=pages, leaked=len(t["leaked"]))
print("\n| run | pages | pages/s | CPU-s/page | peak / mean tree RSS GB | leaked |")
print("|---|---|---|---|---|---|")
rows = {}
for r in range(1, rounds + 1):
    for n in ("c4a-full", "gannet", "c4a-shell", "gannet-full"):
        x = rows[(n, r)] = run(f"{n}-{r}")
        print(f"| {n}-{r} | {x['pages']} | {x['pps']:.2f} | {x['cpu']:.3f} | {x['peak']:.2f} / {x['mean']:.2f} | {x['leaked']} |")
print("\n| round | gannet vs crawl4ai | pages/s | CPU-s/page | peak RSS |")
print("|---|---|---|---|---|")
for r in range(1, rounds + 1):
    for g, c in (("gannet", "c4a-full"), ("gannet", "c4a-shell"), ("gannet-full", "c4a-full")):
        a, b = rows[(g, r)], rows[(c, r)]
        print(f"| {r} | {g} / {c} | {a['pps'] / b['pps']:.2f}x | {a['cpu'] / b['cpu']:.2f}x | {a['peak'] / b['peak']:.2f}x |")
PY
