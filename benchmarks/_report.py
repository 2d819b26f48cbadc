"""Printing the benchmark scripts' two-column tables (Markdown or aligned text)."""

from __future__ import annotations


def print_rows(rows: list[tuple[str, str]], markdown: bool, width: int = 60) -> None:
    if markdown:
        print("| measure | value |\n|---|---|")
        print("\n".join(f"| {k} | {v} |" for k, v in rows))
    else:
        print("\n".join(f"{k:<{width}}{v}" for k, v in rows))
