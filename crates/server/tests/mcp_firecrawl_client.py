"""Firecrawl's own MCP server (firecrawl-mcp from npm, unchanged) over stdio, with
FIRECRAWL_API_URL pointing at gannet serve: its firecrawl_scrape, firecrawl_map and
firecrawl_crawl + firecrawl_check_crawl_status tools answer with our pages. Driven by the
official MCP Python SDK 1.x's stdio client.

usage: mcp_firecrawl_client.py FIRECRAWL_MCP_JS API_URL SITE TOKEN
Prints `mcp client: ok`; any failed check raises.
"""

import asyncio
import json
import os
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


async def main():
    script, api, site, token = sys.argv[1:]
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "FIRECRAWL_API_URL": api,
        "FIRECRAWL_API_KEY": token,
    }
    params = StdioServerParameters(command="node", args=[script], env=env)
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            print("server", init.serverInfo.name, init.serverInfo.version, "protocol", init.protocolVersion, flush=True)
            names = {t.name for t in (await session.list_tools()).tools}
            assert {"firecrawl_scrape", "firecrawl_map", "firecrawl_crawl", "firecrawl_check_crawl_status"} <= names, names
            print("tools:", len(names), flush=True)

            r = await session.call_tool("firecrawl_scrape", {"url": f"{site}/article", "formats": ["markdown"], "onlyMainContent": True})
            assert not r.isError, text_of(r)
            doc = json.loads(text_of(r))
            md = doc["markdown"]
            assert md.startswith("Gannets are seabirds comprising the genus Morus"), doc
            assert "Footer text" not in md, md
            assert doc["metadata"]["title"] == "Gannets", doc["metadata"]
            print("scrape:", md[:40], flush=True)

            r = await session.call_tool("firecrawl_map", {"url": f"{site}/article"})
            assert not r.isError, text_of(r)
            links = json.loads(text_of(r))["links"]
            urls = [x["url"] if isinstance(x, dict) else x for x in links]
            assert f"{site}/other" in urls, links
            print("map:", urls, flush=True)

            r = await session.call_tool("firecrawl_crawl", {"url": f"{site}/article", "limit": 3})
            assert not r.isError, text_of(r)
            job = json.loads(text_of(r))
            job_id = job.get("id") or job.get("jobId")
            assert job_id, job
            for _ in range(300):
                r = await session.call_tool("firecrawl_check_crawl_status", {"id": job_id})
                assert not r.isError, text_of(r)
                status = json.loads(text_of(r))
                if status["status"] in ("completed", "failed", "cancelled"):
                    break
                await asyncio.sleep(0.2)
            assert status["status"] == "completed", status
            crawled = sorted(d["metadata"]["sourceURL"] for d in status["data"])
            assert f"{site}/article" in crawled and f"{site}/other" in crawled, crawled
            print("crawl:", crawled, flush=True)
    print("mcp client: ok")


asyncio.run(main())
