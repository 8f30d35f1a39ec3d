"""Every string of the pages has a Japanese and an English translation, and the compiled
catalogs match the .po files (run `python -m app.translations.catalogs` after adding text)."""

from __future__ import annotations

from app.translations import catalogs
from records.portfolio import vocabulary


def test_every_string_is_translated_in_both_languages() -> None:
    template = catalogs.extract()
    assert len(template) > 100  # the extraction really found the pages' strings
    for locale in catalogs.LOCALES:
        gaps = catalogs.missing(template, catalogs.load(locale))
        assert gaps == [], f"{locale} lacks: {gaps}"


def test_compiled_catalogs_are_up_to_date() -> None:
    assert catalogs.check() == 0


def test_the_check_notices_a_missing_key() -> None:
    template = catalogs.extract()
    japanese = catalogs.load("ja")
    some = next(m for m in template if m.id)
    del japanese[some.id]
    assert catalogs.missing(template, japanese) == [some.id]


def test_every_vocabulary_word_has_both_languages() -> None:
    tables = [
        vocabulary.VERB_PHRASES,
        vocabulary.SUBJECTS,
        vocabulary.ENTRY_KINDS,
        vocabulary.REFLECTION_PROMPTS,
        vocabulary.TIMELINE_KINDS,
    ]
    for table in tables:
        for key, words in table.items():
            assert words.ja.strip(), key
            assert words.en.strip(), key
            assert words.ja != words.en, key
    for iri, phrase in vocabulary.VERB_PHRASES.items():
        if iri != vocabulary.VERB_VOIDED:
            assert "{o}" in phrase.ja, iri
            assert "{o}" in phrase.en, iri
