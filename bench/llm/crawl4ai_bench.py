#!/usr/bin/env python3
"""The LLM bench's crawl4ai side: each HTML file through crawl4ai's own pipeline without a
browser (LXMLWebScrapingStrategy → cleaned HTML → DefaultMarkdownGenerator → the page's
Markdown, LLMExtractionStrategy's default input), then crawl4ai's LLMExtractionStrategy
(schema mode, the same instruction and JSON schema) against the same OpenAI-compatible
server through litellm, timed. One JSON line per page on stdout, as gannet's llm_bench:
{file, ms, prompt_tokens, completion_tokens, requests, value, error}; `value` is the first
item crawl4ai extracted that is not an error block.

usage: crawl4ai_bench.py BASE_URL MODEL SCHEMA PROMPT [--force-json] FILE...
"""
import json, os, sys, time

os.environ.setdefault("LITELLM_LOG", "ERROR")
from crawl4ai import LLMConfig, LLMExtractionStrategy
from crawl4ai.content_scraping_strategy import LXMLWebScrapingStrategy
from crawl4ai.markdown_generation_strategy import DefaultMarkdownGenerator


def main():
    base_url, model, schema_path, prompt, *rest = sys.argv[1:]
    force_json = "--force-json" in rest
    files = [f for f in rest if f != "--force-json"]
    with open(schema_path) as f:
        schema = json.load(f)
    scraper = LXMLWebScrapingStrategy()
    markdown = DefaultMarkdownGenerator()
    for file in files:
        name = os.path.basename(file)
        url = f"http://bench.invalid/{name}"
        with open(file, encoding="utf-8") as f:
            html = f.read()
        cleaned = scraper.scrap(url, html).cleaned_html
        text = markdown.generate_markdown(input_html=cleaned, base_url=url).raw_markdown
        strategy = LLMExtractionStrategy(
            llm_config=LLMConfig(provider=f"openai/{model}", base_url=base_url, api_token="none"),
            instruction=prompt,
            schema=schema,
            extraction_type="schema",
            force_json_response=force_json,
            extra_args={"temperature": 0, "max_tokens": 512},
        )
        started = time.perf_counter()
        error = None
        try:
            items = strategy.run(url, [text])
        except Exception as e:  # reported, as gannet's errors are
            items, error = [], str(e)
        ms = (time.perf_counter() - started) * 1000
        good = [i for i in items if isinstance(i, dict) and not i.get("error")]
        value = None
        if good:
            value = {k: v for k, v in good[0].items() if k != "error"}
        elif error is None:
            # No usable item: what crawl4ai gave instead (an error block, or nothing).
            first = items[0] if items else None
            error = (str(first.get("content"))[:300] if isinstance(first, dict) else "no items")
        u = strategy.total_usage
        print(json.dumps({"file": name, "ms": ms, "prompt_tokens": u.prompt_tokens,
                          "completion_tokens": u.completion_tokens, "requests": len(strategy.usages),
                          "value": value, "error": error}), flush=True)


if __name__ == "__main__":
    main()
