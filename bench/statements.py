"""Realistic, deterministic xAPI statements from Japanese GIGA-school learning apps.

A city (`みなと市`) with 60 schools (40 elementary, 20 junior high) and 20,000 pupils works through
drill and lesson content: about 4,000 content activities (questions, pages, videos) grouped into
units, units into subject-and-grade courses. Statements come in *sessions* of eight: a pupil
either does a quiz (attempted, answered x5, completed, passed|failed) or a lesson
(experienced x7, completed), all under one registration.

Statement `i` of a given seed is a pure function of `(seed, i)`, so any slice can be generated
on its own: seeding processes split the range, and the query benchmark regenerates a few
statements to find agents, activities and registrations that are in the store.

    python -m bench.statements --count 3 --seed 1       # print three statements as JSON
"""

from __future__ import annotations

import argparse
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cached_property
from typing import Any

import orjson

SESSION_LENGTH = 8
IDP = "https://idp.example-city.jp/"
CONTENT = "https://contents.example-edu.jp/"
EXT = "https://ashiato.example.jp/xapi/ext/"
PROFILE = "https://profiles.example-city.jp/xapi/giga-drill/v1"
ADL = "http://adlnet.gov/expapi/verbs/"
ACTIVITY_TYPES = "http://adlnet.gov/expapi/activities/"
JST = timezone(timedelta(hours=9), "JST")
SCHOOL_YEAR = (date(2025, 4, 7), date(2026, 3, 19))

VERBS: dict[str, tuple[str, str]] = {
    "attempted": ("挑戦した", "attempted"),
    "answered": ("回答した", "answered"),
    "completed": ("完了した", "completed"),
    "passed": ("合格した", "passed"),
    "failed": ("不合格だった", "failed"),
    "experienced": ("学習した", "experienced"),
}

# (code, ja name, en name, grades it is taught in: 1-6 elementary, 7-9 junior high)
SUBJECTS: tuple[tuple[str, str, str, range], ...] = (
    ("kokugo", "国語", "Japanese", range(1, 10)),
    ("sansu", "算数", "Arithmetic", range(1, 7)),
    ("sugaku", "数学", "Mathematics", range(7, 10)),
    ("rika", "理科", "Science", range(3, 10)),
    ("shakai", "社会", "Social studies", range(3, 10)),
    ("seikatsu", "生活", "Life environment studies", range(1, 3)),
    ("eigo", "英語", "English", range(5, 10)),
    ("doutoku", "道徳", "Moral education", range(1, 10)),
    ("joho", "情報", "Information studies", range(7, 10)),
)
UNIT_TOPICS: dict[str, tuple[str, ...]] = {
    "kokugo": ("漢字の読み書き", "物語を読む", "説明文", "俳句と短歌", "話し合い", "敬語", "古典"),
    "sansu": ("たし算とひき算", "かけ算", "わり算", "分数", "小数", "図形", "速さ", "割合"),
    "sugaku": (
        "正負の数",
        "文字と式",
        "方程式",
        "比例と反比例",
        "一次関数",
        "図形の合同",
        "確率",
        "データの活用",
    ),
    "rika": (
        "天気の変化",
        "植物の育ち方",
        "電気の働き",
        "物の溶け方",
        "化学変化",
        "力と運動",
        "生物の体のつくり",
        "地層",
    ),
    "shakai": (
        "地図の見方",
        "わたしたちの市",
        "日本の農業",
        "日本の歴史",
        "世界の国々",
        "政治のしくみ",
        "経済と生活",
    ),
    "seikatsu": ("がっこうたんけん", "あさがおをそだてよう", "まちたんけん", "むかしあそび"),
    "eigo": ("自己紹介", "好きなもの", "道案内", "過去形", "未来の表現", "比較", "現在完了"),
    "doutoku": ("思いやり", "規則の尊重", "友情", "家族愛", "生命の尊さ", "公正・公平"),
    "joho": ("情報モラル", "プログラミング", "ネットワーク", "データの表現", "情報セキュリティ"),
}
UNITS_PER_COURSE = 8
ITEMS_PER_UNIT = 7
PUPILS = 20_000
SCHOOLS = 60
ELEMENTARY = 40
DEVICES = ("chromebook", "ipad", "windows")
KANJI_NUMBERS = "一二三四五六七八九十"


@dataclass(frozen=True, slots=True)
class School:
    code: str
    name: str
    elementary: bool


@dataclass(frozen=True, slots=True)
class Pupil:
    account: str
    school: School
    grade: int  # 1-9 (7-9 are junior high years 1-3)
    klass: int
    device: str


@dataclass(frozen=True, slots=True)
class Item:
    activity: dict[str, Any]
    kind: str  # "question" | "page" | "video"


@dataclass(frozen=True, slots=True)
class Unit:
    activity: dict[str, Any]
    course: dict[str, Any]
    curriculum_code: str
    items: tuple[Item, ...]


class City:
    """The fixed world every statement is drawn from (the same for every seed)."""

    def __init__(self, pupils: int = PUPILS, schools: int = SCHOOLS) -> None:
        self.pupil_count = pupils
        self.school_count = schools

    @cached_property
    def schools(self) -> tuple[School, ...]:
        rng = random.Random("schools")
        out = []
        for n in range(self.school_count):
            elementary = n < self.school_count * ELEMENTARY // SCHOOLS
            kind = "小学校" if elementary else "中学校"
            ordinal = n + 1 if elementary else n + 1 - self.school_count * ELEMENTARY // SCHOOLS
            code = f"{'B1' if elementary else 'C1'}13103{rng.randrange(10**6):06d}"
            out.append(School(code, f"みなと市立第{_kanji(ordinal)}{kind}", elementary))
        return tuple(out)

    @cached_property
    def pupils(self) -> tuple[Pupil, ...]:
        rng = random.Random("pupils")
        out = []
        for n in range(self.pupil_count):
            school = self.schools[n % self.school_count]
            grade = rng.randint(1, 6) if school.elementary else rng.randint(7, 9)
            out.append(
                Pupil(
                    f"P{2025_000_000 + n:010d}",
                    school,
                    grade,
                    rng.randint(1, 4),
                    rng.choice(DEVICES),
                )
            )
        return tuple(out)

    @cached_property
    def teachers(self) -> dict[str, list[dict[str, Any]]]:
        """Four teachers per school, as accounts of the same identity provider."""
        return {
            school.code: [_account(f"T-{school.code}-{t:02d}") for t in range(1, 5)]
            for school in self.schools
        }

    @cached_property
    def units(self) -> dict[int, tuple[Unit, ...]]:
        """Units by grade (1-9)."""
        rng = random.Random("units")
        by_grade: dict[int, list[Unit]] = {}
        for code, ja, en, grades in SUBJECTS:
            for grade in grades:
                course_id = f"{CONTENT}courses/{code}/g{grade}"
                course = _activity(
                    course_id,
                    f"{_grade_ja(grade)} {ja}",
                    f"Grade {grade} {en}",
                    ACTIVITY_TYPES + "course",
                )
                for u in range(1, UNITS_PER_COURSE + 1):
                    topics = UNIT_TOPICS[code]
                    topic = topics[(u - 1) % len(topics)]
                    unit_id = f"{course_id}/u{u:02d}"
                    unit = _activity(
                        unit_id,
                        f"{_grade_ja(grade)} {ja} 単元{u} {topic}",
                        f"Grade {grade} {en} unit {u}",
                        ACTIVITY_TYPES + "module",
                    )
                    items = tuple(
                        _item(rng, unit_id, f"{ja} {topic}", k) for k in range(ITEMS_PER_UNIT)
                    )
                    curriculum = f"8{rng.randrange(10**14):014d}0"
                    by_grade.setdefault(grade, []).append(Unit(unit, course, curriculum, items))
        return {grade: tuple(units) for grade, units in by_grade.items()}

    @cached_property
    def category(self) -> dict[str, Any]:
        return {
            "id": PROFILE,
            "objectType": "Activity",
            "definition": {"type": "http://adlnet.gov/expapi/activities/profile"},
        }

    def activity_count(self) -> int:
        units = [u for grade in self.units.values() for u in grade]
        courses = {u.course["id"] for u in units}
        return len(units) * (ITEMS_PER_UNIT + 1) + len(courses) + 1


def _kanji(n: int) -> str:
    if n <= 10:
        return KANJI_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return (
        (KANJI_NUMBERS[tens - 1] if tens > 1 else "")
        + "十"
        + (KANJI_NUMBERS[ones - 1] if ones else "")
    )


def _grade_ja(grade: int) -> str:
    return f"小{grade}" if grade <= 6 else f"中{grade - 6}"


def _account(name: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": IDP, "name": name}}


def _activity(activity_id: str, ja: str, en: str, kind: str) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": activity_id,
        "definition": {"name": {"ja-JP": ja, "en-US": en}, "type": kind},
    }


def _item(rng: random.Random, unit_id: str, title: str, k: int) -> Item:
    if k < 5:
        activity = _activity(
            f"{unit_id}/q{k + 1}",
            f"{title} 問題{k + 1}",
            f"Question {k + 1}",
            "http://adlnet.gov/expapi/activities/cmi.interaction",
        )
        definition = activity["definition"]
        if rng.random() < 0.6:
            definition["interactionType"] = "choice"
            definition["correctResponsesPattern"] = [f"choice{rng.randint(1, 4)}"]
            definition["choices"] = [
                {"id": f"choice{c}", "description": {"ja-JP": f"選択肢{c}"}} for c in range(1, 5)
            ]
        else:
            definition["interactionType"] = "numeric"
            definition["correctResponsesPattern"] = [str(rng.randint(1, 200))]
        return Item(activity, "question")
    if k == 5:
        return Item(
            _activity(
                f"{unit_id}/video",
                f"{title} 解説動画",
                "Explanation video",
                ACTIVITY_TYPES + "media",
            ),
            "video",
        )
    return Item(
        _activity(f"{unit_id}/page", f"{title} まとめ", "Summary page", ACTIVITY_TYPES + "lesson"),
        "page",
    )


def _verb(name: str) -> dict[str, Any]:
    ja, en = VERBS[name]
    return {"id": ADL + name, "display": {"ja-JP": ja, "en-US": en}}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _duration(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    return f"PT{minutes}M{secs}S" if minutes else f"PT{secs}S"


@dataclass(frozen=True, slots=True)
class Session:
    """One sitting of a pupil with a unit: eight statements under one registration."""

    pupil: Pupil
    unit: Unit
    quiz: bool
    registration: str
    start: datetime
    gaps: tuple[int, ...]  # seconds before each statement
    correct: tuple[bool, ...]  # per question (quiz) or unused
    instructor: dict[str, Any] | None


class StatementFactory:
    """Statement `i` for a seed; `statement(i)` is pure, `range(start, count)` iterates."""

    def __init__(self, seed: int = 1, city: City | None = None, with_ids: bool = True) -> None:
        self.seed = seed
        self.city = city or City()
        self.with_ids = with_ids
        self._session_cache: tuple[int, Session] | None = None

    def session(self, number: int) -> Session:
        cached = self._session_cache
        if cached is not None and cached[0] == number:
            return cached[1]
        rng = random.Random(f"{self.seed}:session:{number}")
        city = self.city
        pupil = city.pupils[rng.randrange(len(city.pupils))]
        unit = rng.choice(city.units[pupil.grade])
        days = (SCHOOL_YEAR[1] - SCHOOL_YEAR[0]).days
        day = SCHOOL_YEAR[0] + timedelta(days=rng.randrange(days))
        if day.weekday() >= 5:  # homework at the weekend happens, but less: move most to Monday
            day += timedelta(days=7 - day.weekday()) if rng.random() < 0.8 else timedelta(0)
        minute = rng.randrange(8 * 60 + 40, 15 * 60 + 30)
        start = datetime(
            day.year,
            day.month,
            day.day,
            minute // 60,
            minute % 60,
            rng.randrange(60),
            rng.randrange(1000) * 1000,
            tzinfo=JST,
        )
        gaps = tuple(rng.randint(20, 180) for _ in range(SESSION_LENGTH))
        skill = rng.random()
        correct = tuple(rng.random() < 0.35 + 0.6 * skill for _ in range(5))
        instructor = rng.choice(city.teachers[pupil.school.code]) if rng.random() < 0.3 else None
        made = Session(
            pupil, unit, rng.random() < 0.7, _uuid(rng), start, gaps, correct, instructor
        )
        self._session_cache = (number, made)
        return made

    def statement(self, index: int) -> dict[str, Any]:
        number, slot = divmod(index, SESSION_LENGTH)
        session = self.session(number)
        rng = random.Random(f"{self.seed}:statement:{index}")
        moment = session.start + timedelta(seconds=sum(session.gaps[: slot + 1]))
        verb, obj, result = (self._quiz if session.quiz else self._lesson)(session, slot, rng)
        pupil = session.pupil
        context: dict[str, Any] = {
            "registration": session.registration,
            "contextActivities": {
                "parent": [session.unit.activity] if obj is not session.unit.activity else [],
                "grouping": [session.unit.course],
                "category": [self.city.category],
            },
            "platform": "GIGA端末",
            "language": "ja-JP",
            "extensions": {
                EXT + "school-code": pupil.school.code,
                EXT + "grade": pupil.grade,
                EXT + "class": f"{pupil.grade}-{pupil.klass}",
                EXT + "device": pupil.device,
                EXT + "curriculum-code": session.unit.curriculum_code,
            },
        }
        if not context["contextActivities"]["parent"]:
            del context["contextActivities"]["parent"]
        if session.instructor is not None:
            context["instructor"] = session.instructor
        statement: dict[str, Any] = {}
        if self.with_ids:
            statement["id"] = _uuid(rng)
        statement.update(
            actor=_account(pupil.account),
            verb=_verb(verb),
            object=obj,
            result=result,
            context=context,
            timestamp=moment.isoformat(timespec="milliseconds"),
        )
        if not result:
            del statement["result"]
        return statement

    def range(self, start: int, count: int) -> Iterator[dict[str, Any]]:
        for index in range(start, start + count):
            yield self.statement(index)

    # --- the two kinds of session --------------------------------------------------------------

    def _quiz(
        self, s: Session, slot: int, rng: random.Random
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        raw = sum(s.correct)
        total = sum(s.gaps[1:7])
        if slot == 0:
            return "attempted", s.unit.activity, {}
        if slot <= 5:
            item = s.unit.items[slot - 1]
            definition = item.activity["definition"]
            right = s.correct[slot - 1]
            expected = definition["correctResponsesPattern"][0]
            if definition["interactionType"] == "choice":
                response = expected if right else f"choice{rng.randint(1, 4)}"
                right = response == expected
            else:
                response = expected if right else str(int(expected) + rng.randint(1, 9))
            return (
                "answered",
                item.activity,
                {
                    "success": right,
                    "response": response,
                    "duration": _duration(s.gaps[slot]),
                },
            )
        score = {"scaled": round(raw / 5, 2), "raw": raw, "min": 0, "max": 5}
        if slot == 6:
            return (
                "completed",
                s.unit.activity,
                {
                    "score": score,
                    "completion": True,
                    "duration": _duration(total),
                },
            )
        passed = raw >= 3
        return (
            ("passed" if passed else "failed"),
            s.unit.activity,
            {
                "score": score,
                "success": passed,
                "completion": True,
                "duration": _duration(total),
            },
        )

    def _lesson(
        self, s: Session, slot: int, rng: random.Random
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        if slot < SESSION_LENGTH - 1:
            item = s.unit.items[slot]
            result: dict[str, Any] = {"duration": _duration(s.gaps[slot])}
            if item.kind == "video":
                result["extensions"] = {EXT + "watched-ratio": round(rng.uniform(0.3, 1.0), 2)}
            return "experienced", item.activity, result
        return (
            "completed",
            s.unit.activity,
            {
                "completion": True,
                "duration": _duration(sum(s.gaps[1:])),
            },
        )


def dump(statements: list[dict[str, Any]]) -> bytes:
    """The request body for a batch (a single statement is sent as an object)."""
    return orjson.dumps(statements[0] if len(statements) == 1 else statements)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--stats", action="store_true", help="print sizes instead of JSON")
    args = parser.parse_args(argv)
    factory = StatementFactory(args.seed)
    batch = list(factory.range(args.start, args.count))
    if args.stats:
        sizes = [len(orjson.dumps(st)) for st in batch]
        print(
            f"{len(batch)} statements, mean {sum(sizes) / len(sizes):.0f} bytes, "
            f"{factory.city.activity_count()} activities, {len(factory.city.pupils)} pupils, "
            f"{len(factory.city.schools)} schools, at {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
        )
        return
    sys.stdout.buffer.write(orjson.dumps(batch, option=orjson.OPT_INDENT_2) + b"\n")


if __name__ == "__main__":
    main()
