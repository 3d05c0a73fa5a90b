#!/usr/bin/env bash
# Issue 20: a client paging through a 100,000-result job, each page through another
# replica: every replica's RSS stays flat. Starts a real redis-server and REPLICAS
# `gannet serve --redis` replicas (deploy/local-cluster.sh) and a loopback site (Debian's
# nginx answering /p<N> with a small page, no files), runs a batch job of RESULTS URLs of
# it (the job's results are produced the real way: fetched, extracted, stored in Redis),
# then pages through all results with bench/cluster/paging_rss.py, sampling each
# replica's RSS. Release build.
#
# usage: bench/cluster/paging-rss.sh
# env:   RESULTS (100000), REPLICAS (3), PAGE (100, results a page), GANNET (default: a
#        release build), CACHE_MB ([cluster] job_cache_mb of the replicas; default theirs)
set -euo pipefail
cd "$(dirname "$0")/../.."
RESULTS=${RESULTS:-100000}; REPLICAS=${REPLICAS:-3}; PAGE=${PAGE:-100}
if [ -z "${GANNET:-}" ]; then
  cargo build --release --locked -q -p gannet
  GANNET=$PWD/target/release/gannet
fi
export GANNET
NGINX_BIN=${NGINX_BIN:-$(command -v nginx || echo /usr/sbin/nginx)}
free() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DIR=$(mktemp -d)
chmod 755 "$DIR"
export STATE_DIR=$DIR/cluster
cleanup() {
  deploy/local-cluster.sh stop >/dev/null 2>&1 || true
  [ -f "$DIR/site/nginx.pid" ] && kill "$(cat "$DIR/site/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$DIR"
}
trap cleanup EXIT

# The site: nginx answers /p<N> from its config, nothing on disk.
SITE_PORT=$(free)
mkdir -p "$DIR/site"
chmod 755 "$DIR/site"
cat >"$DIR/site/nginx.conf" <<EOF
worker_processes 1;
pid $DIR/site/nginx.pid;
error_log $DIR/site/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type text/html;
  client_body_temp_path $DIR/site/tmp; proxy_temp_path $DIR/site/tmp;
  fastcgi_temp_path $DIR/site/tmp; uwsgi_temp_path $DIR/site/tmp; scgi_temp_path $DIR/site/tmp;
  server {
    listen 127.0.0.1:$SITE_PORT;
    location ~ ^/p([0-9]+)\$ {
      return 200 "<html><head><title>Page \$1</title></head><body><article><h1>Page \$1</h1><p>Text of page \$1, long enough to count as the main content of the page for the extractor, which keeps it.</p><p>A second paragraph of page \$1 with a <a href=/p\$1>link</a>.</p></article></body></html>";
    }
  }
}
EOF
"$NGINX_BIN" -p "$DIR/site" -c "$DIR/site/nginx.conf" -e "$DIR/site/error.log"

# Replicas that take a batch of RESULTS URLs (a request of about 40 bytes a URL).
body_bytes=$((RESULTS * 64 + 65536))
{
  printf '[requests]\nmax_body_bytes = %d\n[jobs]\nmax_urls = %d\n' "$body_bytes" "$RESULTS"
  [ -n "${CACHE_MB:-}" ] && printf '[cluster]\njob_cache_mb = %d\n' "$CACHE_MB"
} >"$DIR/gannet.toml"
export GANNET_CONFIG=$DIR/gannet.toml MAX_BODY=$body_bytes SERVE_ARGS="--allow-private -q"
deploy/local-cluster.sh start "$REPLICAS" >/dev/null
args=()
for i in $(seq "$REPLICAS"); do
  d=$STATE_DIR/replica-$i
  args+=("$(cat "$d/port"):$(cat "$d/pid")")
done
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); gannet $("$GANNET" --version 2>/dev/null | head -1)"
python3 bench/cluster/paging_rss.py "http://127.0.0.1:$SITE_PORT" "$RESULTS" "$PAGE" "${args[@]}"
echo "redis: $(redis-cli -p "$(cat "$STATE_DIR/redis/port")" info memory | grep -E '^used_memory_human' | tr -d '\r')"
