#!/usr/bin/env python3
"""Checks BENCHMARKS.md against the run folders.

    python3 bench/runs/check.py                  # every number in a row of BENCHMARKS.md's
                                                 # tables appears in the run folders the row
                                                 # links (any folder if it links none)
    python3 bench/runs/check.py --against REV    # also: the run folders, concatenated in
                                                 # ORDER, are REV's BENCHMARKS.md sections

Numbers are compared as written (3,542 is not 3542). Dates, link targets and the
commit/date columns are not checked. Exit status 1 when something is missing.
"""
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUNS = ROOT / "bench" / "runs"
MARK = "<!-- Below: the session notes moved verbatim from BENCHMARKS.md. -->"
# The folders in the order their sections had in BENCHMARKS.md before the move.
ORDER = [
    "2026-11-23-extraction-speed", "2026-11-23-crawl-rustdoc", "2026-11-23-render-crawl4ai",
    "2026-11-23-browser-memory", "2026-11-23-server-stress", "2026-11-23-server-md-http-mode",
    "2026-11-23-server-md-load", "2026-11-23-extraction-quality",
    "2026-11-23-extraction-quality-wcxb", "2026-11-23-extraction-quality-extract-q",
    "2026-11-23-extract-memory-hostile", "2026-12-04-extraction-quality-extract-q2",
    "2026-12-04-extraction-quality-extract-q3", "2026-12-04-browser-memory-late-content",
    "2026-12-04-server-stress", "2026-12-06-browser-crawl4ai-levers",
    "2026-12-07-browser-hidden-tabs", "2026-12-07-browser-headless-shell",
    "2026-12-06-extraction-speed-pass", "2026-12-07-wcxb-by-type-trafilatura",
    "2026-12-07-server-md-page-size",
]
NUMBER = re.compile(r"(?<![\w.,])\d[\d,]*(?:\.\d+)?(?![\w])")
SKIP_COLUMNS = {"date", "commit", "run"}


def table_numbers(text):
    """(line number, linked run folders, number) for every number in a table cell, outside
    the skipped columns."""
    header = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if set(line) <= set("|-: "):
            continue
        folders = re.findall(r"\]\((?:\.\./\.\./)?bench/runs/([^/)]+)/?\)", line)
        for name, cell in zip(header, cells):
            if name in SKIP_COLUMNS:
                continue
            cell = re.sub(r"\]\([^)]*\)", "]", cell)  # link targets
            cell = re.sub(r"\d{4}-\d{2}-\d{2}", "", cell)  # dates
            for m in NUMBER.finditer(cell):
                yield lineno, tuple(folders), m.group(0).rstrip(",")


def main():
    runs = {p.parent.name: p.read_text() for p in sorted(RUNS.glob("*/README.md"))}
    checked = 0
    missing = []
    for lineno, folders, number in table_numbers((ROOT / "BENCHMARKS.md").read_text()):
        unknown = [f for f in folders if f not in runs]
        if unknown:
            missing.append((lineno, f"a link to bench/runs/{unknown[0]}/, which does not exist"))
            continue
        text = "\n".join(runs[f] for f in folders) if folders else "\n".join(runs.values())
        checked += 1
        if not re.search(r"(?<![\d.])" + re.escape(number) + r"(?![\d])", text):
            where = ", ".join(folders) if folders else "any run folder"
            missing.append((lineno, f"{number} is not in {where}"))
    for lineno, what in missing:
        print(f"BENCHMARKS.md:{lineno}: {what}")
    ok = not missing
    if "--against" in sys.argv:
        rev = sys.argv[sys.argv.index("--against") + 1]
        old = subprocess.run(["git", "show", f"{rev}:BENCHMARKS.md"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        start = old.index("\n## ") + 1  # the sections, after the preamble
        parts = []
        for folder in ORDER:
            text = (RUNS / folder / "README.md").read_text()
            parts.append(text.split(MARK + "\n\n", 1)[1].rstrip("\n"))
        moved = "\n\n".join(parts) + "\n"
        if moved != old[start:]:
            ok = False
            print(f"the run folders differ from {rev}'s BENCHMARKS.md sections")
        else:
            print(f"run folders = {rev}'s BENCHMARKS.md sections, byte for byte")
    print(f"{checked} numbers checked, {len(missing)} problems")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
