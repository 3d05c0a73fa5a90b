"""The anchors' own Python clients against a gannet cluster behind nginx.

usage: cluster_clients.py firecrawl NGINX_URL SITE_URL LIMIT
       cluster_clients.py crawl4ai NGINX_URL URL...
(run by tests/cluster_clients.rs with target/py-tools/bin/python)

Firecrawl's SDK (firecrawl-py, the v2 client `Firecrawl(api_url=..., api_key=...)`), as its
users run it: `start_crawl` of the site through nginx, then `wait_crawl` through nginx while
the test kills the replica that accepted the job. Prints, one line each, flushed:
  id <job id>                     once the crawl is started
  done <json>                     when wait_crawl returned (status, totals, every URL)
then reads replica base URLs from stdin, one a line, until EOF, and for each prints
  via <url> <json>                the same job read through that replica alone
A client error ends the process non-zero; the test asserts on the lines.

crawl4ai's Docker client (Crawl4aiDockerClient) the same way with crawl4ai's job API
(POST /crawl/job, GET /crawl/job/{task_id}, a batch of the URLs given). crawl4ai 0.9.5's
client has no public method for the job API, so the job goes through the client's own
request layer (`_prepare_request` serializes the configs as `crawl()` does, `_request`
sends with its base URL, headers and error mapping), and the results are read into
crawl4ai's own `CrawlResult` model as `crawl()` reads them.
"""
import json
import sys


def summary(job):
    urls = []
    for doc in job.data or []:
        meta = doc.metadata
        urls.append((meta.source_url or meta.url) if meta else None)
    return json.dumps(
        {"status": job.status, "total": job.total, "completed": job.completed, "urls": urls}
    )


def firecrawl(base, site, limit):
    from firecrawl import Firecrawl

    fc = Firecrawl(api_key="fc-local", api_url=base)
    started = fc.start_crawl(site, limit=limit, sitemap="skip")
    print(f"id {started.id}", flush=True)
    job = fc.wait_crawl(started.id, poll_interval=1, timeout=150)
    print(f"done {summary(job)}", flush=True)
    for line in sys.stdin:
        replica = line.strip()
        if not replica:
            continue
        direct = Firecrawl(api_key="fc-local", api_url=replica)
        print(f"via {replica} {summary(direct.get_crawl_status(started.id))}", flush=True)


async def crawl4ai_wait(client, task, timeout=150):
    import asyncio
    import time

    from crawl4ai import CrawlResult

    start = time.monotonic()
    while True:
        status = (await client._request("GET", f"/crawl/job/{task}")).json()
        if status["status"] in ("completed", "failed"):
            break
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"job {task} still {status['status']} after {timeout} s")
        await asyncio.sleep(1)
    results = [CrawlResult(**r) for r in (status.get("result") or {}).get("results", [])]
    return json.dumps(
        {
            "status": status["status"],
            "urls": [r.url for r in results],
            "failed": [r.url for r in results if not r.success],
        }
    )


async def crawl4ai(base, urls):
    from crawl4ai import BrowserConfig, CrawlerRunConfig
    from crawl4ai.docker_client import Crawl4aiDockerClient

    async with Crawl4aiDockerClient(base_url=base, verbose=False) as client:
        body = client._prepare_request(
            urls, browser_config=BrowserConfig(headless=True), crawler_config=CrawlerRunConfig()
        )
        task = (await client._request("POST", "/crawl/job", json=body)).json()["task_id"]
        print(f"id {task}", flush=True)
        print(f"done {await crawl4ai_wait(client, task)}", flush=True)
    for line in sys.stdin:
        replica = line.strip()
        if not replica:
            continue
        async with Crawl4aiDockerClient(base_url=replica, verbose=False) as direct:
            print(f"via {replica} {await crawl4ai_wait(direct, task, timeout=0)}", flush=True)


if sys.argv[1] == "firecrawl":
    firecrawl(sys.argv[2].rstrip("/"), sys.argv[3], int(sys.argv[4]))
elif sys.argv[1] == "crawl4ai":
    import asyncio

    asyncio.run(crawl4ai(sys.argv[2].rstrip("/"), sys.argv[3:]))
else:
    sys.exit(f"unknown client {sys.argv[1]!r}")
