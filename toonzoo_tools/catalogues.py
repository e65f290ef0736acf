"""Keep the bot's gettext catalogues in step with its code (needs Babel: ``pip install -e '.[test]'``).

    python -m toonzoo_tools.catalogues          # extract, update every .po, compile every .mo
    python -m toonzoo_tools.catalogues --check  # exit 1 when a .po or .mo is behind the code

Messages are extracted from ``bot/`` (``t.gettext``, ``t.ngettext`` and ``Text(...)``)
into ``bot/locale/toonzoo.pot``; each language's ``.po`` is updated from it
(translations kept, new messages empty, dropped ones removed) and compiled to
the ``.mo`` that ships beside it. The compiled files are committed, so the
package and the Docker image need no build step; a test fails when one is stale.
"""

import argparse
import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from bot.i18n import DEFAULT_LANGUAGE, DOMAIN, LANGUAGES, LOCALE_DIR

BOT_DIR = LOCALE_DIR.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "Text": None, "_n": (2, 3)}  # Text(msgid); replies._n(t, singular, plural, n)
TEMPLATE = LOCALE_DIR / f"{DOMAIN}.pot"


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(language: str) -> Path:
    return po_path(language).with_suffix(".mo")


def extract_template() -> Catalog:
    """Every message the bot's code says, with where it is said."""
    catalogue = Catalog(project="toonzoo", fuzzy=False)
    method_map = [("**.py", "python")]
    for filename, lineno, message, comments, context in extract_from_dir(
        BOT_DIR, method_map=method_map, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        catalogue.add(message, None, [(f"bot/{filename}", lineno)], auto_comments=comments, context=context)
    for message in classifier_messages():
        catalogue.add(message, None, [("classifier/errors.py", 0)], auto_comments=["The classifier's error message."])
    return catalogue


def classifier_messages() -> list[str]:
    """The user-facing messages of ``classifier.errors``, written there once: the bot translates an error's
    ``user_message`` by its English text (``bot.replies.error_text``). The two that carry a number are worded by
    the bot itself."""
    from classifier import errors

    worded_by_the_bot = (errors.ImageTooLarge, errors.ImageTooManyPixels)
    found: list[str] = []
    pending: list[type[errors.UserError]] = [errors.UserError]
    while pending:
        kind = pending.pop(0)
        pending += kind.__subclasses__()
        ours = kind.__module__ == errors.__name__ and not issubclass(kind, worded_by_the_bot)
        if ours and kind.user_message not in found:
            found.append(kind.user_message)
    return found


def read_catalogue(language: str) -> Catalog:
    with po_path(language).open("rb") as file:
        return read_po(file, locale=language, domain=DOMAIN)


def updated(catalogue: Catalog, template: Catalog) -> Catalog:
    """``catalogue`` with the template's messages: translations kept, new ones empty, old ones gone."""
    catalogue.update(template, no_fuzzy_matching=True)
    catalogue.obsolete.clear()
    return catalogue


def po_bytes(catalogue: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_po(buffer, catalogue, width=100, include_lineno=False)
    return buffer.getvalue()


def mo_bytes(catalogue: Catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalogue, use_fuzzy=False)
    return buffer.getvalue()


def translated_languages() -> tuple[str, ...]:
    return tuple(language for language in LANGUAGES if language != DEFAULT_LANGUAGE)


def update_all() -> None:
    """Extract, update each language's .po (creating it if needed) and compile its .mo."""
    template = extract_template()
    TEMPLATE.parent.mkdir(parents=True, exist_ok=True)
    TEMPLATE.write_bytes(po_bytes(template))
    for language in translated_languages():
        path = po_path(language)
        if path.exists():
            catalogue = read_catalogue(language)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalogue = Catalog(locale=language, domain=DOMAIN, project="toonzoo")
        catalogue = updated(catalogue, template)
        catalogue.fuzzy = False
        path.write_bytes(po_bytes(catalogue))
        mo_path(language).write_bytes(mo_bytes(read_catalogue(language)))


def problems() -> list[str]:
    """What is behind the code: messages missing or untranslated in a .po, a .mo not compiled from its .po."""
    template = extract_template()
    found = []
    for language in translated_languages():
        catalogue = read_catalogue(language)
        for message in template:
            if not message.id:
                continue
            ours = catalogue.get(message.id, message.context)
            strings = ours.string if ours is not None else None
            if isinstance(strings, str):
                strings = (strings,)
            if ours is None or not strings or not all(strings):
                found.append(f"{language}: no translation for {message.id!r}")
        if not mo_path(language).exists() or mo_path(language).read_bytes() != mo_bytes(catalogue):
            found.append(f"{language}: {mo_path(language).name} is not compiled from its .po")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is behind the code")
    args = parser.parse_args(argv)
    if not args.check:
        update_all()
    found = problems()
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
