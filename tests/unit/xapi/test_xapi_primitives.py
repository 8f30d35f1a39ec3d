"""IRIs, UUIDs, timestamps and language tags, including differential checks against libraries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import isodate
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rfc3987_syntax import is_valid_syntax_iri

from records.errors import InvalidStatementError
from records.xapi import is_iri, parse_timestamp, parse_uuid
from records.xapi.primitives import is_language_tag, key_path, show

VALID_IRIS = [
    "http://adlnet.gov/expapi/verbs/attended",
    "https://contents.example-edu.jp/courses/sansu/g4/u03/q2?lang=ja#top",
    "http://example.com/xapi/verbs#defenestrated",
    "http://example.com/فعل/خواندن",
    "https://例え.jp/教材/算数",
    "urn:isbn:9784000000000",
    "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "mailto:hanako@example.jp",
    "tag:example.com,2025:verbs/did",
    "http://[2001:db8::1]:8080/a",
    "http://[v1.fe80::a+en1]/",
    "http://192.168.0.1/",
    "http://user:pass@example.com:/",
    "x:",
    "http://x.jp/%E3%81%82",
    "http://x.jp/\U0001f600",
    "http://x.jp/?\ue000",
]
INVALID_IRIS = [
    "",
    "attended",
    "not.a.valid.iri.com/verb",
    "ab=c://should.fail.com",
    "1http://x.jp/",
    "://x.jp",
    "#fragment",
    "/relative/path",
    "http://x.jp/a b",
    "http://x.jp/<script>",
    'http://x.jp/"q"',
    "http://x.jp/%zz",
    "http://x.jp/a\\b",
    "http://x.jp/a#b#c",
    "http://x.jp/{id}",
    "http://[::1/",
    "http://[12345::]/",
    "http://x.jp/\x00",
    "http://x.jp/\ud800",
    "http://x.jp/#\ue000",
    "http://x.jp:80a/",
    " http://x.jp/",
    "http://x.jp/\n",
]


@pytest.mark.parametrize("value", VALID_IRIS)
def test_valid_iri(value: str) -> None:
    assert is_iri(value)


@pytest.mark.parametrize("value", INVALID_IRIS)
def test_invalid_iri(value: str) -> None:
    assert not is_iri(value)


@pytest.mark.parametrize("value", [None, 1, ["http://x.jp/"], {"id": "http://x.jp/"}])
def test_iri_needs_a_string(value: object) -> None:
    assert not is_iri(value)


# rfc3987-syntax implements the RFC 3987 grammar directly (but takes ~10 ms per call, leaves out
# characters beyond U+FFFF and most abbreviated IPv6 forms such as "[::1]", which the standard
# library's ipaddress checks here): the regular expression must agree with it wherever both apply.
_PIECES = st.sampled_from(
    [
        *["a", "Z", "0", "-", ".", "_", "~", "!", "$", "&", "'", "(", ")", "*", "+", ",", ";"],
        *["=", ":", "@", "/", "?", "#", "%20", "%e3%81%82", "%", "%g1", "あ", "é", "\u00a0"],
        *["\ue001", "[", "]", "[v7.x]", "[1:2]", " ", '"', "<", "{", "|", "\\", "^", "`", "\x7f"],
    ]
)
_BMP = st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"])


@st.composite
def _iri_like(draw: st.DrawFn) -> str:
    """Mostly well-formed IRIs with a sprinkling of wrong characters and structure."""
    scheme = draw(st.sampled_from(["http", "urn", "x+y.z-1", "mailto", "A1", "1a", ""]))
    authority = draw(st.sampled_from(["", "//", "//user@", "//h:80", "//[1:2:3:4:5:6:7:8]:8"]))
    parts = draw(st.lists(_PIECES | _BMP, max_size=10))
    return f"{scheme}:{authority}{''.join(parts)}"


@settings(max_examples=200, deadline=None)
@given(_iri_like())
def test_the_regex_agrees_with_the_grammar_on_iri_like_strings(value: str) -> None:
    assert is_iri(value) == is_valid_syntax_iri(value), value


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["http:", "http://", "urn:", "x+y.z-1:", "mailto:", "a"]),
    st.lists(_PIECES | _BMP, max_size=12).map("".join),
)
def test_the_regex_agrees_with_the_grammar_on_random_strings(prefix: str, rest: str) -> None:
    value = prefix + rest
    assert is_iri(value) == is_valid_syntax_iri(value), value


def test_a_long_invalid_iri_is_rejected_quickly() -> None:
    value = "http://x.jp/" + "a/" * 50_000 + " "
    started = datetime.now(UTC)
    assert not is_iri(value)
    assert datetime.now(UTC) - started < timedelta(seconds=1)


class TestUuid:
    def test_canonical_lower_case(self) -> None:
        value = "3F2504E0-4F89-41D3-9A0C-0305E82C3301"
        assert parse_uuid(value, "statementId") == value.lower()

    @pytest.mark.parametrize(
        "value",
        [
            "AA97B177-9383-4934-8543-0F91A7A028368",
            "MA97B177-9383-4934-8543-0F91A7A02836",
            "3f2504e04f8941d39a0c0305e82c3301",
            "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
            "urn:uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301",
            "3f2504e0-4f89-41d3-9a0c-0305e82c330",
            "3f2504e0-4f89-41d3-9a0c-0305e82c3301\n",
            "３f2504e0-4f89-41d3-9a0c-0305e82c3301",  # noqa: RUF001 -- a full-width digit
            "wrong",
            "",
            12345,
            None,
        ],
    )
    def test_rejected(self, value: object) -> None:
        with pytest.raises(InvalidStatementError, match=r"^registration: must be a UUID"):
            parse_uuid(value, "registration")


class TestTimestamp:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2025-06-12T10:15:30.250+09:00", datetime(2025, 6, 12, 1, 15, 30, 250000, UTC)),
            ("2025-06-12T01:15:30Z", datetime(2025, 6, 12, 1, 15, 30, tzinfo=UTC)),
            ("2025-06-12T01:15:30.1234567Z", datetime(2025, 6, 12, 1, 15, 30, 123456, UTC)),
            ("2025-06-12T01:15:30", datetime(2025, 6, 12, 1, 15, 30, tzinfo=UTC)),
            ("2025-06-12T01:15:30+00:00", datetime(2025, 6, 12, 1, 15, 30, tzinfo=UTC)),
            ("2025-06-12T01:15Z", datetime(2025, 6, 12, 1, 15, tzinfo=UTC)),
            ("20250612T011530Z", datetime(2025, 6, 12, 1, 15, 30, tzinfo=UTC)),
            ("20250612T101530+0900", datetime(2025, 6, 12, 1, 15, 30, tzinfo=UTC)),
            ("2025-06-12T10:15:30,5+09", datetime(2025, 6, 12, 1, 15, 30, 500000, UTC)),
            ("2025-W24-4T01:15Z", datetime(2025, 6, 12, 1, 15, tzinfo=UTC)),
            ("2025-163T01:15Z", datetime(2025, 6, 12, 1, 15, tzinfo=UTC)),
            ("2031-11-27T02:08:21.638Z", datetime(2031, 11, 27, 2, 8, 21, 638000, UTC)),
        ],
    )
    def test_parsed(self, value: str, expected: datetime) -> None:
        parsed = parse_timestamp(value, "since")
        assert parsed == expected
        assert parsed.tzinfo is not None

    @pytest.mark.parametrize(
        "value",
        [
            "2008-09-15T15:53:00.601-00",
            "2008-09-15T15:53:00.601-0000",
            "2008-09-15T15:53:00.601-00:00",
            "01/011/2015",
            "should fail",
            "2008-09-15",
            "2008-09-15 15:53:00Z",
            "2008-09-15t15:53:00z",
            "2008-09-15T15:53:00Zjunk",
            "2008-09-15T15:53:00Z\n",
            "2008-13-15T15:53:00Z",
            "2008-09-31T15:53:00Z",
            "2008-09-15T15:60:00Z",
            "2008-09-15T15:53:00+24:00",
            "0000-01-01T00:00:00Z",
            "２００８-09-15T15:53:00Z",  # noqa: RUF001 -- full-width digits
            "",
            1718000000,
            None,
        ],
    )
    def test_rejected(self, value: object) -> None:
        with pytest.raises(InvalidStatementError, match=r"^since: must be an ISO 8601 timestamp"):
            parse_timestamp(value, "since")

    @settings(max_examples=300)
    @given(
        st.datetimes(  # naive bounds, as hypothesis wants them
            min_value=datetime(1, 1, 2),  # noqa: DTZ001
            max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        ),
        st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
        st.integers(min_value=0, max_value=9),
        st.booleans(),
    )
    def test_the_fast_path_agrees_with_isodate(
        self, moment: datetime, offset_minutes: int, digits: int, zulu: bool
    ) -> None:
        text = moment.isoformat(timespec="seconds")
        if digits:
            text += "." + f"{moment.microsecond:06d}{moment.microsecond % 1000:03d}"[:digits]
        if zulu:
            text += "Z"
        else:
            sign = "-" if offset_minutes < 0 else "+"
            hours, minutes = divmod(abs(offset_minutes), 60)
            text += f"{sign}{hours:02d}:{minutes:02d}"
        if text.endswith("-00:00"):
            return
        expected = isodate.parse_datetime(text)
        assert parse_timestamp(text, "t") == expected
        assert parse_timestamp(text, "t").utcoffset() == expected.utcoffset()

    def test_offsets_are_kept(self) -> None:
        parsed = parse_timestamp("2025-06-12T10:15:30+09:00", "t")
        assert parsed.utcoffset() == timezone(timedelta(hours=9)).utcoffset(None)


@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        ("ja", True),
        ("ja-JP", True),
        ("EN-us", True),
        ("zh-Hant", True),
        ("sr-Latn-RS", True),
        ("es-419", True),
        ("cmn", True),
        ("tlh", True),
        ("en-GB-oed", True),
        ("de-CH-1901", True),
        ("x-klingon", True),
        ("en-US-x-twain", True),
        ("en_US", False),
        ("a12345678", False),
        ("something", False),
        ("xx", False),
        ("en-", False),
        ("-en", False),
        ("en--US", False),
        ("", False),
        ("én", False),
        ("en\n", False),
    ],
)
def test_language_tags(tag: str, valid: bool) -> None:
    assert is_language_tag(tag) is valid


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, "null"),
        (True, "true"),
        (1.5, "1.5"),
        ("bob", '"bob"'),
        ("x" * 100, '"' + "x" * 57 + '..."'),
        ('a"b', '"a\\"b"'),
        ("\ud800", '"\\ud800"'),
        ({"a": 1}, "an object"),
        ([1], "an array"),
        pytest.param(10**5000, "a very large number", id="10**5000"),
    ],
)
def test_show(value: object, shown: str) -> None:
    assert show(value) == shown


def test_key_path() -> None:
    assert key_path("statement", "actor") == "statement.actor"
    assert key_path("statement.verb.display", "en-US") == 'statement.verb.display["en-US"]'
    assert key_path("x", "http://e.x/a") == 'x["http://e.x/a"]'
