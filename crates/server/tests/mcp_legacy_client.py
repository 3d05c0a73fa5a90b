"""The official MCP Python SDK 1.x (mcp 1.30.0, unchanged) against crawl4ai's legacy MCP
transports on gannet serve: HTTP+SSE at /mcp/sse (sse_client) and the WebSocket at /mcp/ws
(websocket_client), with crawl4ai's tool names and argument shapes.

usage: mcp_legacy_client.py sse|ws|refused-sse URL SITE [TOKEN]
URL: .../mcp/sse or ws://.../mcp/ws (a token, if any, goes in ?token= for the WebSocket:
websocket_client sends no headers). SITE: the testkit site's base URL. Prints
`mcp client: ok` and the protocol revision used; any failed check raises.
"""

import asyncio
import base64
import json
import sys

from mcp import ClientSession
from mcp.client.sse import sse_client
from mcp.client.websocket import websocket_client

C4 = {"md", "html", "screenshot", "pdf", "execute_js", "crawl"}
GANNET = {"scrape", "crawl_job", "crawl_status", "map", "search_page"}


def text_of(result):
    return "".join(getattr(c, "text", "") for c in result.content)


def no_unions(schema, where):
    s = json.dumps(schema)
    for word in ("anyOf", "oneOf", "allOf", "$ref"):
        assert word not in s, f"{where}: {word} in {s}"


def transport(kind, url, token):
    if kind == "sse":
        headers = {"Authorization": f"Bearer {token}"} if token else None
        return sse_client(url, headers=headers, timeout=30)
    return websocket_client(url)


async def main():
    kind, url, site, *rest = sys.argv[1:]
    token = rest[0] if rest else None
    refused = kind.startswith("refused-")
    kind = kind.removeprefix("refused-")
    async with transport(kind, url, token) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            print("protocol", init.protocolVersion, flush=True)
            assert init.serverInfo.name == "gannet", init.serverInfo
            tools = (await session.list_tools()).tools
            names = {t.name for t in tools}
            assert C4 | GANNET <= names, names
            assert "ask" not in names, names
            for t in tools:
                no_unions(t.inputSchema, t.name)
                assert t.inputSchema.get("type") == "object", t

            if refused:
                for tool, args in (("md", {"url": f"{site}/article"}),
                                   ("crawl", {"urls": ["http://10.0.0.1/"]}),
                                   ("scrape", {"url": "http://169.254.169.254/latest/meta-data/"})):
                    r = await session.call_tool(tool, args)
                    assert r.isError, (tool, r)
                    assert "forbidden_address" in text_of(r), (tool, text_of(r))
                print("refused:", text_of(r))
                print("mcp client: ok")
                return

            # md (crawl4ai's shape: the JSON of its /md route); f in any case.
            r = await session.call_tool("md", {"url": f"{site}/article", "f": "FIT"})
            assert not r.isError, text_of(r)
            answer = json.loads(text_of(r))
            assert answer["success"] is True and answer["filter"] == "fit", answer
            md = answer["markdown"]
            assert md.startswith("Gannets are seabirds comprising the genus Morus"), md
            assert "Footer text" not in md, md
            r = await session.call_tool("md", {"url": f"{site}/article", "f": "bm25", "q": "bubble wrap cushioning"})
            answer = json.loads(text_of(r))
            assert "bubble wrap" in answer["markdown"] and "genus Morus" not in answer["markdown"], answer

            # html: the cleaned main content.
            r = await session.call_tool("html", {"url": f"{site}/article"})
            answer = json.loads(text_of(r))
            assert answer["success"] and "genus Morus" in answer["html"] and "<p" in answer["html"], answer

            # crawl: crawl4ai's list of URLs, one CrawlResult each.
            r = await session.call_tool("crawl", {"urls": [f"{site}/article", f"{site}/other"],
                                                  "crawler_config": {"type": "CrawlerRunConfig", "params": {}}})
            assert not r.isError, text_of(r)
            answer = json.loads(text_of(r))
            results = answer["results"]
            assert [x["url"] for x in results] == [f"{site}/article", f"{site}/other"], results
            assert all(x["success"] for x in results), results
            assert "Colonies on cliffs" in json.dumps(results[1]["markdown"]), results[1]

            # Errors are tool errors in crawl4ai's words: a bad filter, a disabled route,
            # and ask (crawl4ai's own docs), which gannet does not have.
            r = await session.call_tool("md", {"url": f"{site}/article", "f": "llm"})
            assert r.isError and json.loads(text_of(r))["error"] == 400, text_of(r)
            r = await session.call_tool("execute_js", {"url": f"{site}/article", "scripts": ["1 + 1"]})
            assert r.isError and json.loads(text_of(r))["code"] == "disabled", text_of(r)
            r = await session.call_tool("ask", {"query": "how to crawl"})
            assert r.isError and json.loads(text_of(r))["code"] == "not_supported", text_of(r)

            # gannet's own tools beside them: scrape, and a crawl job paged through.
            r = await session.call_tool("scrape", {"url": f"{site}/article"})
            assert not r.isError and text_of(r).startswith("Gannets are seabirds"), text_of(r)
            r = await session.call_tool("crawl_job", {"url": f"{site}/article", "limit": 2})
            assert not r.isError, text_of(r)
            job = r.structuredContent["id"]
            for _ in range(600):
                r = await session.call_tool("crawl_status", {"id": job, "limit": 10})
                s = r.structuredContent
                if s["status"] in ("completed", "failed", "cancelled"):
                    break
                await asyncio.sleep(0.1)
            assert s["status"] == "completed" and s["results"], s
            print("crawl job pages:", len(s["results"]))

            # Progress notifications while a call runs longer than a second.
            seen = []

            async def on_progress(progress, total, message):
                seen.append((progress, message))

            r = await session.call_tool("md", {"url": f"{site}/slower", "render": "never"}, progress_callback=on_progress)
            assert not r.isError and "slower" in text_of(r), text_of(r)
            assert len(seen) >= 2, seen
            print("progress notifications:", len(seen))

            # screenshot and pdf through the browser, crawl4ai's base64 in JSON.
            r = await session.call_tool("screenshot", {"url": f"{site}/article"})
            assert not r.isError, text_of(r)
            png = base64.b64decode(json.loads(text_of(r))["screenshot"])
            assert png.startswith(b"\x89PNG\r\n\x1a\n"), png[:16]
            r = await session.call_tool("pdf", {"url": f"{site}/article"})
            assert not r.isError, text_of(r)
            pdf = base64.b64decode(json.loads(text_of(r))["pdf"])
            assert pdf.startswith(b"%PDF"), pdf[:16]
            print("screenshot bytes:", len(png), "pdf bytes:", len(pdf))
    print("mcp client: ok")


asyncio.run(main())
