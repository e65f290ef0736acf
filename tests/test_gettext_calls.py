"""The catalogue's extractor cannot see a message inside an f-string: no gettext call may hide there."""

import ast
from pathlib import Path

import bot

KEYWORDS = {"gettext", "ngettext", "_n", "Text"}  # toonzoo_tools.catalogues.KEYWORDS, by name
BOT_DIR = Path(bot.__file__).parent


def calls_inside_f_strings(source: str, filename: str) -> list[str]:
    """``file:line name`` for each keyword call inside an f-string of ``source``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.JoinedStr):
            continue
        for inner in ast.walk(node):
            if isinstance(inner, ast.Call):
                func = inner.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name in KEYWORDS:
                    found.append(f"{filename}:{inner.lineno} {name}")
    return found


def test_the_check_finds_a_call_inside_an_f_string():
    assert calls_inside_f_strings("x = f\"{a}\\n{t.gettext('See /help')}\"", "x.py") == ["x.py:1 gettext"]
    assert calls_inside_f_strings('x = f\'{_n(t, "a", "b", n)}\'', "x.py") == ["x.py:1 _n"]
    assert calls_inside_f_strings("x = f'{a}' + t.gettext('b')", "x.py") == []


def test_no_gettext_call_inside_an_f_string_in_the_bot():
    found = [
        hit
        for path in sorted(BOT_DIR.rglob("*.py"))
        for hit in calls_inside_f_strings(path.read_text(encoding="utf-8"), str(path.relative_to(BOT_DIR.parent)))
    ]
    assert found == []
