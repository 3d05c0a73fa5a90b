#!/usr/bin/env python3
"""A latency-bound loopback site for bench/distributed/scaling.sh: HOSTS origins on
distinct loopback addresses (127.0.1.1, 127.0.1.2, ...; port PORT), PAGES pages each, every
response delayed by DELAY_MS. Page i links to pages 2i+1, 2i+2 and (7i+3) mod PAGES of the
same host, so a crawl from every host's / reaches all pages. Every request is counted per
path; GET /__hits on 127.0.1.1 answers "<requests> <distinct paths>" (each page fetched once
means requests == distinct paths). Stops on SIGTERM."""
import http.server, socketserver, sys, threading, time, signal

HOSTS, PAGES, DELAY_MS, PORT = (int(a) for a in sys.argv[1:5])
lock = threading.Lock()
hits = {}

def page(i):
    links = " ".join(f'<a href="/p{j}">p{j}</a>' for j in (2*i+1, 2*i+2, (7*i+3) % PAGES) if 0 < j < PAGES)
    return (f"<html><head><title>Page {i}</title></head><body><article><h1>Page {i}</h1>"
            f"<p>Text of page {i}, long enough to count as the main content of the page.</p>"
            f"<p>{links}</p></article></body></html>").encode()

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == "/__hits":
            with lock:
                body = f"{sum(hits.values())} {len(hits)}\n".encode()
        else:
            time.sleep(DELAY_MS / 1000)
            key = (self.server.server_address[0], self.path)
            with lock:
                hits[key] = hits.get(key, 0) + 1
            if self.path == "/":
                body = page(0)
            elif self.path.startswith("/p") and self.path[2:].isdigit() and int(self.path[2:]) < PAGES:
                body = page(int(self.path[2:]))
            else:
                self.send_response(404); self.send_header("content-length", "0"); self.end_headers(); return
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

servers = [Server((f"127.0.1.{h + 1}", PORT), Handler) for h in range(HOSTS)]
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print("ready", flush=True)
while True:
    time.sleep(3600)
