"""The anchors' Python clients asking `gannet serve` for structured data, unchanged.

usage: extraction_clients.py BASE_URL SITE_URL [llm]   (run by tests/extraction.rs)

crawl4ai's Crawl4aiDockerClient with JsonCssExtractionStrategy (and, with `llm`,
LLMExtractionStrategy), firecrawl-py's scrape with a v2 json format and extract(). Every
check is an assert: the process exits non-zero on the first wrong answer.
"""
import asyncio
import json
import sys
import warnings

base, site = sys.argv[1].rstrip("/"), sys.argv[2].rstrip("/")
llm = len(sys.argv) > 3 and sys.argv[3] == "llm"
warnings.simplefilter("ignore")

PRODUCT = {"name": "Acme Anvil 3000", "price": "$49.99", "manufacturer": "Acme Corporation"}
PRODUCT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "price": {"type": "string"},
        "manufacturer": {"type": "string"},
    },
    "required": ["name", "price", "manufacturer"],
    "additionalProperties": False,
}
PROMPT = "Extract the product's name, price and manufacturer."


async def crawl4ai_checks():
    from crawl4ai import CrawlerRunConfig, JsonCssExtractionStrategy
    from crawl4ai.docker_client import Crawl4aiDockerClient

    schema = {
        "name": "products",
        "baseSelector": "div.product",
        "fields": [
            {"name": "title", "selector": "h2", "type": "text"},
            {"name": "price", "selector": ".price", "type": "regex", "pattern": "([\\d.]+)"},
        ],
    }
    async with Crawl4aiDockerClient(base_url=base, verbose=False) as client:
        await client.authenticate("tester@example.com")
        r = await client.crawl(
            [f"{site}/shop"],
            crawler_config=CrawlerRunConfig(extraction_strategy=JsonCssExtractionStrategy(schema)),
        )
        assert r.success, r.error_message
        items = json.loads(r.extracted_content)
        assert items == [{"title": "Tea", "price": "4.50"}, {"title": "Coffee", "price": "7.00"}], items
        if llm:
            from crawl4ai import LLMConfig, LLMExtractionStrategy

            strategy = LLMExtractionStrategy(
                llm_config=LLMConfig(provider="openai/gpt-4o-mini", api_token="sk-ignored"),
                schema=PRODUCT_SCHEMA,
                extraction_type="schema",
                instruction=PROMPT,
            )
            r = await client.crawl(
                [f"{site}/product"], crawler_config=CrawlerRunConfig(extraction_strategy=strategy)
            )
            assert r.success, r.error_message
            assert json.loads(r.extracted_content) == [PRODUCT], r.extracted_content
    print("crawl4ai client: ok")


def firecrawl_checks():
    from firecrawl import Firecrawl

    fc = Firecrawl(api_key="fc-local", api_url=base)
    doc = fc.scrape(
        f"{site}/product",
        formats=["markdown", {"type": "json", "schema": PRODUCT_SCHEMA, "prompt": PROMPT}],
    )
    assert doc.json == PRODUCT, doc.json
    done = fc.extract(urls=[f"{site}/product"], prompt=PROMPT, schema=PRODUCT_SCHEMA, poll_interval=1)
    assert done.status == "completed", done
    assert done.data == PRODUCT, done.data
    assert (done.tokens_used or 0) > 50, done.tokens_used
    print("firecrawl client: ok")


asyncio.run(crawl4ai_checks())
if llm:
    firecrawl_checks()
