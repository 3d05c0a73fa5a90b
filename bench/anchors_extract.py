"""Side-by-side extraction throughput of the anchors (resiliparse, trafilatura) on the same
decompressed pages bench/extract.sh uses, one thread, in-process (start-up excluded).
Usage: python3 bench/anchors_extract.py DIR_OF_HTML_FILES
Needs: pip install resiliparse trafilatura lxml_html_clean (a venv; bench-only)."""
import sys, time, pathlib

files = sorted(pathlib.Path(sys.argv[1]).glob("*.html"))
pages = [f.read_bytes() for f in files]
mb = sum(map(len, pages)) / 1e6

def bench(name, fn):
    t = time.process_time()
    for p in pages:
        try:
            fn(p)
        except Exception:
            pass
    s = time.process_time() - t
    print(f"{name:12s} {len(pages)/s:8.1f} pages/s {mb/s:7.1f} MB/s (cpu {s:.2f}s, {len(pages)} pages, {mb:.1f} MB)")

try:
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding
    bench("resiliparse", lambda p: extract_plain_text(HTMLTree.parse_from_bytes(p, detect_encoding(p)), main_content=True))
except ImportError as e:
    print("resiliparse not installed:", e)
try:
    import trafilatura
    bench("trafilatura", lambda p: trafilatura.extract(p.decode("utf-8", "replace"), output_format="markdown"))
except ImportError as e:
    print("trafilatura not installed:", e)
