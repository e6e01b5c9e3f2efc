"""The stylesheet parses as the browser will read it. CSS closes an unclosed block silently at the end of
the file, so a missing "}" once swallowed every later rule into an @media print block and nothing failed:
the parser's errors and the balance of every block are checked here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tinycss2

STYLESHEETS = sorted((Path(__file__).resolve().parent.parent / "static" / "css").glob("*.css"))


def _braces(tokens) -> int:
    """Curly-bracket blocks in the source, counted from the parser's tokens (comments and strings are
    already out of the way)."""
    count = 0
    for token in tokens:
        if token.type == "{} block":
            count += 1 + _braces(token.content)
        elif token.type in ("() block", "[] block", "function"):
            count += _braces(token.arguments if token.type == "function" else token.content)
    return count


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: p.name)
def test_the_stylesheet_parses_without_errors(path):
    css = path.read_text(encoding="utf-8")
    rules = tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
    errors = [f"{r.source_line}:{r.source_column} {r.message}" for r in rules if r.type == "error"]
    assert errors == []
    for rule in rules:
        if rule.type == "qualified-rule" or (rule.type == "at-rule" and rule.content is not None):
            declarations = (
                tinycss2.parse_blocks_contents(rule.content) if rule.type == "qualified-rule" else []
            )
            bad = [d for d in declarations if d.type == "error"]
            assert bad == [], f"line {rule.source_line}: {[d.message for d in bad]}"


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: p.name)
def test_every_block_is_closed(path):
    css = path.read_text(encoding="utf-8")
    opened = _braces(tinycss2.parse_component_value_list(css, skip_comments=True))
    # Every block the parser saw must be closed by a "}" in the text, not by the end of the file.
    text = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    text = re.sub(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'', "", text)
    assert text.count("}") == opened


def test_no_rule_is_caught_in_a_print_block_by_accident():
    """Screen rules (the agenda card, chart series) must be at the top level, not inside @media print."""
    css = (STYLESHEETS[0].parent / "app.css").read_text(encoding="utf-8")
    top_level = {
        tinycss2.serialize(rule.prelude).strip()
        for rule in tinycss2.parse_stylesheet(css, skip_comments=True, skip_whitespace=True)
        if rule.type == "qualified-rule"
    }
    assert ".agenda-item" in top_level
