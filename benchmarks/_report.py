"""What the benchmark scripts share: two-column tables (Markdown or aligned text) and
the process's resident memory."""

from __future__ import annotations

from pathlib import Path


def rss_kb(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, in kB (0 if unknown)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def print_rows(rows: list[tuple[str, str]], markdown: bool, width: int = 60) -> None:
    if markdown:
        print("| measure | value |\n|---|---|")
        print("\n".join(f"| {k} | {v} |" for k, v in rows))
    else:
        print("\n".join(f"{k:<{width}}{v}" for k, v in rows))
