"""Keep the translation catalogs in step with the code.

    python -m app.translations.catalogs            # extract, update ja/en, compile
    python -m app.translations.catalogs --check    # fail if a string lacks a translation

English is the source language; the English catalog repeats each string so that a missing key
is equally visible in both languages (tests/unit/test_translations.py runs --check).
"""

from __future__ import annotations

import argparse
import sys
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

HERE = Path(__file__).resolve().parent
APP = HERE.parent
LOCALES = ("ja", "en")
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None}
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2")]


def extract() -> Catalog:
    template = Catalog(project="Ashiato", charset="utf-8")
    for _file, _line, message, comments, context in extract_from_dir(
        str(APP), METHODS, keywords=KEYWORDS, comment_tags=("TRANSLATORS:",)
    ):
        template.add(message, None, auto_comments=comments, context=context)
    return template


def po_path(locale: str) -> Path:
    return HERE / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale, project="Ashiato", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def missing(template: Catalog, catalog: Catalog) -> list[str]:
    """Strings of the code with no (or a fuzzy) translation in the catalog."""
    gaps = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        if found is None or not found.string or found.fuzzy:
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
        elif isinstance(found.string, tuple) and not all(found.string):
            gaps.append(message.id[0])
    return gaps


def compiled(catalog: Catalog) -> bytes:
    buffer = BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def update() -> None:
    template = extract()
    for locale in LOCALES:
        catalog = load(locale)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if locale == "en":
            for message in catalog:
                if message.id and not message.string:
                    message.string = message.id
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, omit_header=False, sort_output=True, width=100)
        path.with_suffix(".mo").write_bytes(compiled(catalog))


def check() -> int:
    template = extract()
    problems = 0
    for locale in LOCALES:
        catalog = load(locale)
        for gap in missing(template, catalog):
            print(f"{locale}: no translation for {gap!r}")
            problems += 1
        mo = po_path(locale).with_suffix(".mo")
        if not mo.exists() or mo.read_bytes() != compiled(catalog):
            print(f"{locale}: {mo.name} is out of date; run python -m app.translations.catalogs")
            problems += 1
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        return check()
    update()
    return check()


if __name__ == "__main__":
    sys.exit(main())
