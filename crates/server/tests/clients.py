"""The anchors' own Python clients, unchanged, against a running `gannet serve`.

usage: clients.py BASE_URL SITE_URL   (run by tests/api.rs with target/py-tools/bin/python)

crawl4ai's Crawl4aiDockerClient (token, /crawl single and batch, /crawl/stream, a failed
URL) and Firecrawl's SDK (firecrawl-py: /v2/scrape with several formats, a screenshot).
Every check is an assert: the process exits non-zero on the first wrong answer.
"""
import asyncio
import base64
import sys

base, site = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")


async def crawl4ai_checks():
    from crawl4ai import BrowserConfig, CrawlerRunConfig
    from crawl4ai.docker_client import Crawl4aiDockerClient

    async with Crawl4aiDockerClient(base_url=base, verbose=False) as client:
        await client.authenticate("tester@example.com")
        one = await client.crawl(
            [f"{site}/article"],
            browser_config=BrowserConfig(headless=True),
            crawler_config=CrawlerRunConfig(),
        )
        assert one.success, one.error_message
        assert one.status_code == 200, one.status_code
        assert "Gannets are seabirds" in one.markdown.fit_markdown, one.markdown.fit_markdown
        assert "Site navigation" not in one.markdown.fit_markdown, "boilerplate in fit markdown"
        assert "Site navigation" in one.markdown.raw_markdown, "raw markdown is the whole page"
        assert any(l["href"].endswith("/other") for l in one.links["internal"]), one.links

        # The BM25 content filter as crawl4ai's own classes serialize it.
        from crawl4ai import BM25ContentFilter, DefaultMarkdownGenerator

        focused = await client.crawl(
            [f"{site}/article"],
            crawler_config=CrawlerRunConfig(
                markdown_generator=DefaultMarkdownGenerator(
                    content_filter=BM25ContentFilter(user_query="air sacs cushioning the impact")
                )
            ),
        )
        assert focused.success, focused.error_message
        fit = focused.markdown.fit_markdown
        assert "air sacs" in fit and "closely related to boobies" not in fit, fit

        many = await client.crawl([f"{site}/article", f"{site}/other"])
        assert [r.url for r in many] == [f"{site}/article", f"{site}/other"]
        assert all(r.success for r in many)

        stream = await client.crawl(
            [f"{site}/article", f"{site}/other", f"{site}/missing"],
            crawler_config=CrawlerRunConfig(stream=True),
        )
        seen = {}
        async for r in stream:
            seen[r.url] = r
        assert set(seen) == {f"{site}/article", f"{site}/other", f"{site}/missing"}, seen.keys()
        assert seen[f"{site}/article"].success
        assert not seen[f"{site}/missing"].success
        assert "404" in seen[f"{site}/missing"].error_message

        rendered = await client.crawl(
            [f"{site}/spa"],
            crawler_config=CrawlerRunConfig(screenshot=True, wait_for="css:#late"),
        )
        assert rendered.success, rendered.error_message
        assert "Rendered by a script" in rendered.markdown.fit_markdown
        png = base64.b64decode(rendered.screenshot)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    print("crawl4ai client: ok")


def firecrawl_checks():
    from firecrawl import Firecrawl

    fc = Firecrawl(api_key="fc-local", api_url=base)
    doc = fc.scrape(f"{site}/article", formats=["markdown", "links", "html", "rawHtml"])
    assert "Gannets are seabirds" in doc.markdown
    assert "Site navigation" not in doc.markdown
    assert doc.metadata.title == "Gannets", doc.metadata.title
    assert doc.metadata.status_code == 200
    assert any(l.endswith("/other") for l in doc.links), doc.links
    assert "<nav" in doc.raw_html and "<nav" not in doc.html

    full = fc.scrape(f"{site}/article", formats=["markdown"], only_main_content=False)
    assert "Site navigation" in full.markdown

    shot = fc.scrape(f"{site}/spa", formats=["markdown", "screenshot"], wait_for=600)
    assert shot.screenshot.startswith("data:image/png;base64,")
    assert "Rendered by a script" in shot.markdown
    job = fc.crawl(f"{site}/article", limit=3, poll_interval=1, timeout=60)
    assert job.status == "completed", job.status
    assert 1 <= len(job.data) <= 3, len(job.data)
    assert any("Gannets are seabirds" in (d.markdown or "") for d in job.data)

    links = fc.map(f"{site}/article").links
    urls = [l.url if hasattr(l, "url") else l for l in links]
    assert f"{site}/other" in urls, urls
    print("firecrawl client: ok")


asyncio.run(crawl4ai_checks())
firecrawl_checks()
