"""The official MCP Python SDK (mcp 2.x, unchanged) against gannet's MCP server.

usage: mcp_client.py http URL SITE MODE [TOKEN]     (Streamable HTTP at URL, e.g. .../mcp)
       mcp_client.py stdio GANNET SITE MODE [ARGS]  (spawns `GANNET mcp ARGS...`)
       mcp_client.py refused-http URL SITE MODE / refused-stdio GANNET SITE MODE [ARGS]
MODE: auto (the 2026-07-28 revision via server/discover) or legacy (the initialize
handshake). SITE: the testkit site's base URL. Prints `mcp client: ok` and the protocol
revision that was used; any failed check raises.
"""

import asyncio
import base64
import json
import sys

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

TOOLS = {"scrape", "crawl", "crawl_status", "map", "screenshot", "search_page"}


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


def no_unions(schema, where):
    s = json.dumps(schema)
    for word in ("anyOf", "oneOf", "allOf", "$ref"):
        assert word not in s, f"{where}: {word} in {s}"


def connect(kind, target, mode, extra):
    if kind == "http":
        headers = {"Authorization": f"Bearer {extra[0]}"} if extra else {}
        http = httpx2.AsyncClient(headers=headers, timeout=60)
        return Client(streamable_http_client(target, http_client=http), mode=mode)
    return Client(StdioServerParameters(command=target, args=["mcp", *extra]), mode=mode)


async def main():
    kind, target, site, mode, *extra = sys.argv[1:]
    refused = kind.startswith("refused-")
    kind = kind.removeprefix("refused-")
    async with connect(kind, target, mode, extra) as client:
        print("protocol", client.protocol_version, flush=True)
        tools = (await client.list_tools()).tools
        names = {t.name for t in tools}
        assert TOOLS <= names, names
        for t in tools:
            no_unions(t.input_schema, t.name)
            assert t.input_schema.get("type") == "object", t
        if refused:
            for url in (f"{site}/article", "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/"):
                r = await client.call_tool("scrape", {"url": url})
                assert r.is_error, (url, r)
                assert text_of(r).startswith("forbidden_address"), (url, text_of(r))
            r = await client.call_tool("crawl", {"url": f"{site}/"})
            assert r.is_error and text_of(r).startswith("forbidden_address"), text_of(r)
            print("refused:", text_of(r))
            print("mcp client: ok")
            return

        # scrape: the article's main content as Markdown; enum values in any case.
        r = await client.call_tool("scrape", {"url": f"{site}/article", "format": "MARKDOWN"})
        assert not r.is_error, text_of(r)
        md = text_of(r)
        assert md.startswith("Gannets are seabirds comprising the genus Morus"), md
        assert "seabirds comprising the genus Morus" in md, md
        assert "Footer text" not in md and "Site navigation" not in md, md
        assert r.structured_content["format"] == "markdown", r.structured_content
        assert r.structured_content["title"] == "Gannets", r.structured_content
        # scrape with a crawl4ai CSS schema: its items in `extracted`, no LLM needed.
        schema = {"name": "paragraphs", "baseSelector": "article p",
                  "fields": [{"name": "text", "type": "text"},
                             {"name": "link", "selector": "a", "type": "attribute", "attribute": "href"}]}
        r = await client.call_tool("scrape", {"url": f"{site}/article", "css_schema": schema})
        assert not r.is_error, text_of(r)
        items = r.structured_content["extracted"]
        assert len(items) == 3, items
        assert items[0]["text"].startswith("Gannets are seabirds"), items
        assert items[2]["link"] == "/other" and "link" not in items[0], items
        assert "Extracted:" in text_of(r), text_of(r)
        r = await client.call_tool("scrape", {"url": f"{site}/article", "css_schema": {"name": "bad", "fields": []}})
        assert r.is_error and "css_schema" in text_of(r), text_of(r)
        r = await client.call_tool("scrape", {"url": f"{site}/article", "format": "text", "only_main_content": False, "render": "Never"})
        assert not r.is_error and "Footer text" in text_of(r) and "# " not in text_of(r), text_of(r)

        # search_page: BM25 over the page's blocks.
        r = await client.call_tool("search_page", {"url": f"{site}/article", "query": "bubble wrap cushioning"})
        assert not r.is_error, text_of(r)
        assert "bubble wrap" in text_of(r) and "genus Morus" not in text_of(r), text_of(r)

        # map: the site's URLs.
        r = await client.call_tool("map", {"url": f"{site}/article"})
        assert not r.is_error, text_of(r)
        assert f"{site}/other" in r.structured_content["links"], r.structured_content

        # A bad argument is a tool error, not a crash.
        r = await client.call_tool("scrape", {"url": f"{site}/article", "format": "pdf"})
        assert r.is_error and "bad_request" in text_of(r), text_of(r)

        # Progress notifications while a call runs longer than a second.
        seen = []

        async def on_progress(progress, total, message):
            seen.append((progress, message))

        r = await client.call_tool("scrape", {"url": f"{site}/slower", "render": "never"}, progress_callback=on_progress)
        assert not r.is_error and "slower" in text_of(r), text_of(r)
        assert len(seen) >= 2, seen
        print("progress notifications:", len(seen))

        # crawl: a job id at once, then its pages a page at a time.
        r = await client.call_tool("crawl", {"url": f"{site}/article", "limit": 5})
        assert not r.is_error, text_of(r)
        job = r.structured_content["id"]
        urls, cursor, pages = [], 0, 0
        for _ in range(600):
            r = await client.call_tool("crawl_status", {"id": job, "cursor": cursor, "limit": 1})
            assert not r.is_error, text_of(r)
            s = r.structured_content
            urls += [x["url"] for x in s["results"]]
            pages += 1 if s["results"] else 0
            cursor = s["next_cursor"]
            if s["status"] in ("completed", "failed", "cancelled") and not s["more"]:
                break
            if not s["results"]:
                await asyncio.sleep(0.1)
        assert s["status"] == "completed", s
        assert f"{site}/article" in urls and f"{site}/other" in urls, urls
        assert pages >= 2, pages
        r = await client.call_tool("crawl_status", {"id": "no-such-job"})
        assert r.is_error and "job_not_found" in text_of(r), text_of(r)
        print("crawled:", urls)

        if kind == "http" and mode == "auto":
            r = await client.call_tool("screenshot", {"url": f"{site}/article", "full_page": False})
            assert not r.is_error, text_of(r)
            image = r.content[0]
            assert image.type == "image" and image.mime_type == "image/png", image
            assert base64.b64decode(image.data).startswith(b"\x89PNG\r\n\x1a\n")
            print("screenshot bytes:", len(base64.b64decode(image.data)))
    print("mcp client: ok")


asyncio.run(main())
