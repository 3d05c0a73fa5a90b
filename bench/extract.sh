#!/usr/bin/env bash
# Extraction throughput: `gannet extract --format json` over a corpus in ONE process on ONE
# thread (-j 1), as the issue's target is stated. Prints pages/s and MB/s of input HTML,
# wall and CPU, and peak RSS. Usage: bench/extract.sh [CORPUS_HTML_DIR] (default: the
# wcxb-dev pages from ../shared, decompressed to a temp dir).
# With ANCHORS_PY=/path/to/python (a venv with resiliparse, trafilatura, lxml_html_clean),
# the anchors run on the same pages right after, and the ratios are printed.
# The readability set: decompress ../shared/corpus/readability/*/source.html.gz to a folder
# of NAME.html files first (see bench/runs/2026-12-07-extract-speed-quiet/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${GANNET_SHARED:-../shared}
src=${1:-$shared/corpus/wcxb-dev/html}
# GANNET_BIN=/path/to/gannet measures that build instead (say, main's copied aside, to
# compare two builds in turns); else this checkout's release build, built first.
if [ -n "${GANNET_BIN:-}" ]; then
  bin=$GANNET_BIN
else
  cargo build --release --locked -p gannet >/dev/null
  bin=$(pwd)/target/release/gannet
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/in" "$work/out"
for f in "$src"/*; do
  case "$f" in
    *.html.gz) gzip -dc "$f" > "$work/in/$(basename "${f%.gz}")" ;;
    *.html|*.htm) cp "$f" "$work/in/" ;;
  esac
done
ls "$work"/in/* > "$work/list"
pages=$(wc -l < "$work/list")
bytes=$(cat "$work"/in/* | wc -c)
# Warm the page cache, then measure.
cat "$work"/in/* > /dev/null
/usr/bin/time -f '%e %U %S %M' -o "$work/time" \
  "$bin" extract --format json --out "$work/out" --files-from "$work/list" -j 1 \
  --timing "$work/timing.json"
read -r wall user sys rss_kb < "$work/time"
extract_s=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["extract_seconds"])' "$work/timing.json")
python3 - "$pages" "$bytes" "$wall" "$user" "$sys" "$rss_kb" "$extract_s" <<'PY'
import sys
pages, nbytes = int(sys.argv[1]), int(sys.argv[2])
wall, user, sys_, rss_kb, ext = map(float, sys.argv[3:])
cpu = user + sys_
mb = nbytes / 1e6
print(f"pages {pages}, input {mb:.1f} MB")
print(f"whole process (read + extract + write JSON): wall {wall:.2f}s cpu {cpu:.2f}s -> {pages/wall:.0f} pages/s, {mb/wall:.1f} MB/s")
print(f"extraction only (in-process timer):          {ext:.2f}s -> {pages/ext:.0f} pages/s, {mb/ext:.1f} MB/s")
print(f"peak RSS {rss_kb/1024:.1f} MB")
PY
if [ -n "${ANCHORS_PY:-}" ]; then
  echo "anchors on the same pages (one thread, in-process):"
  "$ANCHORS_PY" bench/anchors_extract.py "$work/in" | tee "$work/anchors.txt"
  python3 - "$pages" "$extract_s" "$work/anchors.txt" <<'PY'
import sys, re
pages, ext = int(sys.argv[1]), float(sys.argv[2])
ours = pages / ext
for line in open(sys.argv[3]):
    m = re.match(r"(\S+)\s+([0-9.]+) pages/s", line)
    if m:
        print(f"gannet / {m.group(1)}: {ours / float(m.group(2)):.1f}x pages/s")
PY
fi
