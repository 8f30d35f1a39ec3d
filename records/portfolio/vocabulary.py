"""The xAPI words the portfolio writes and recognises, with the plain Japanese and English a
10-year-old reads. One table per kind of word; every entry has both languages (tests check).

Our own IRIs live under NS. They are fixed, not the service URL: a portfolio exported to
another Ashiato must mean the same thing there.
"""

from __future__ import annotations

from dataclasses import dataclass

NS = "https://ashiato.jp/xapi"
ADL = "http://adlnet.gov/expapi/verbs/"


@dataclass(frozen=True, slots=True)
class Words:
    ja: str
    en: str

    def get(self, locale: str) -> str:
        return self.ja if locale == "ja" else self.en


# --- verbs ------------------------------------------------------------------------------------
# A verb's phrase is a sentence template around the activity name ({o}).

VERB_DID = ADL + "experienced"
VERB_REFLECTED = NS + "/verbs/reflected"
VERB_SET_GOAL = NS + "/verbs/set-goal"
VERB_CREATED = "http://activitystrea.ms/schema/1.0/create"
VERB_COMMENTED = ADL + "commented"
VERB_RECOGNISED = NS + "/verbs/recognised-achievement"
VERB_VOIDED = ADL + "voided"

VERB_PHRASES: dict[str, Words] = {
    VERB_DID: Words("「{o}」をした", "did “{o}”"),
    VERB_REFLECTED: Words("「{o}」をふりかえった", "reflected on “{o}”"),
    VERB_SET_GOAL: Words("めあてを立てた：「{o}」", "set a goal: “{o}”"),
    VERB_CREATED: Words("「{o}」をつくった", "made “{o}”"),
    VERB_COMMENTED: Words("「{o}」にコメントした", "commented on “{o}”"),
    VERB_RECOGNISED: Words("「{o}」をがんばった成果にえらんだ", "chose “{o}” as an achievement"),
    ADL + "answered": Words("「{o}」にこたえた", "answered “{o}”"),
    ADL + "asked": Words("「{o}」を質問した", "asked “{o}”"),
    ADL + "attempted": Words("「{o}」にちょうせんした", "tried “{o}”"),
    ADL + "attended": Words("「{o}」に出席した", "attended “{o}”"),
    ADL + "completed": Words("「{o}」をやりとげた", "completed “{o}”"),
    ADL + "exited": Words("「{o}」をおえた", "left “{o}”"),
    ADL + "failed": Words("「{o}」はもう少し", "not yet passed “{o}”"),
    ADL + "imported": Words("「{o}」をとりこんだ", "imported “{o}”"),
    ADL + "initialized": Words("「{o}」をはじめた", "started “{o}”"),
    ADL + "interacted": Words("「{o}」をつかった", "used “{o}”"),
    ADL + "launched": Words("「{o}」をひらいた", "opened “{o}”"),
    ADL + "mastered": Words("「{o}」をマスターした", "mastered “{o}”"),
    ADL + "passed": Words("「{o}」に合格した", "passed “{o}”"),
    ADL + "preferred": Words("「{o}」をえらんだ", "chose “{o}”"),
    ADL + "progressed": Words("「{o}」をすすめた", "made progress in “{o}”"),
    ADL + "registered": Words("「{o}」に登録した", "signed up for “{o}”"),
    ADL + "responded": Words("「{o}」にこたえた", "responded to “{o}”"),
    ADL + "resumed": Words("「{o}」をつづけた", "went on with “{o}”"),
    ADL + "scored": Words("「{o}」で点数がついた", "got a score in “{o}”"),
    ADL + "shared": Words("「{o}」をみんなに見せた", "shared “{o}”"),
    ADL + "suspended": Words("「{o}」をいったん止めた", "paused “{o}”"),
    ADL + "terminated": Words("「{o}」をおえた", "finished “{o}”"),
    VERB_VOIDED: Words("記録をとりけした", "withdrew an entry"),
    "http://id.tincanapi.com/verb/viewed": Words("「{o}」を見た", "viewed “{o}”"),
    "http://activitystrea.ms/schema/1.0/watch": Words("「{o}」を見た", "watched “{o}”"),
    "https://w3id.org/xapi/video/verbs/played": Words("「{o}」を再生した", "played “{o}”"),
    "https://w3id.org/xapi/video/verbs/paused": Words("「{o}」を止めた", "paused “{o}”"),
    "https://w3id.org/xapi/video/verbs/completed": Words("「{o}」を見おえた", "finished “{o}”"),
}

# --- subjects (教科等, 学習指導要領) ------------------------------------------------------------
# A statement belongs to a subject when its context category holds SUBJECT_PREFIX + code.

SUBJECT_PREFIX = NS + "/subjects/"
SUBJECTS: dict[str, Words] = {
    "japanese": Words("国語", "Japanese"),
    "social": Words("社会", "Social studies"),
    "arithmetic": Words("算数", "Arithmetic"),
    "mathematics": Words("数学", "Mathematics"),
    "science": Words("理科", "Science"),
    "life": Words("生活", "Life environment studies"),
    "music": Words("音楽", "Music"),
    "arts_crafts": Words("図画工作", "Arts and crafts"),
    "fine_arts": Words("美術", "Fine arts"),
    "home": Words("家庭", "Home economics"),
    "tech_home": Words("技術・家庭", "Technology and home economics"),
    "pe": Words("体育", "Physical education"),
    "health_pe": Words("保健体育", "Health and physical education"),
    "foreign_language": Words("外国語", "Foreign language"),
    "foreign_activities": Words("外国語活動", "Foreign language activities"),
    "moral": Words("道徳", "Moral education"),
    "integrated": Words("総合的な学習の時間", "Integrated studies"),
    "special": Words("特別活動", "Special activities"),
    "other": Words("その他", "Other"),
}


def subject_iri(code: str) -> str:
    return SUBJECT_PREFIX + code


# --- the portfolio's own markers ---------------------------------------------------------------
# Category on every entry a pupil writes in the portfolio, and on teachers' feedback and
# achievement marks (a separate one, so the timeline can show those beside the entry instead).
ENTRY_CATEGORY = NS + "/activities/portfolio-entry"
FEEDBACK_CATEGORY = NS + "/activities/portfolio-feedback"
ENTRY_KIND_EXT = NS + "/extensions/entry-kind"  # activity | reflection | goal | artifact
REVISES_EXT = NS + "/extensions/revises"  # id of the entry this one replaces (an edit)
PROMPT_EXT = NS + "/extensions/prompt"  # the reflection prompt the pupil answered
ARTIFACT_USAGE = "http://id.tincanapi.com/attachment/supporting_media"
ACTIVITY_TYPE = {
    "activity": "http://adlnet.gov/expapi/activities/performance",
    "reflection": NS + "/activitytypes/reflection",
    "goal": NS + "/activitytypes/goal",
    "artifact": "http://activitystrea.ms/schema/1.0/file",
}

ENTRY_KINDS: dict[str, Words] = {
    "activity": Words("やったこと", "What I did"),
    "reflection": Words("ふりかえり", "Reflection"),
    "goal": Words("めあて", "Goal"),
    "artifact": Words("作品", "Work"),
}

REFLECTION_PROMPTS: dict[str, Words] = {
    "learned": Words("今日わかったことは？", "What did you find out today?"),
    "hard": Words("むずかしかったことは？", "What was hard?"),
    "next": Words("次にやってみたいことは？", "What do you want to try next?"),
    "proud": Words("がんばったことは？", "What are you proud of?"),
}

# --- kinds of timeline items ---------------------------------------------------------------------
# One rule per kind, used both to label an item and to filter the timeline through the index:
# `verbs` and `category` say what belongs; "device" is everything else.

TEST_VERBS = tuple(ADL + v for v in ("passed", "failed", "scored", "mastered", "answered"))
LESSON_VERBS = tuple(ADL + v for v in ("attended", "launched"))

TIMELINE_KINDS: dict[str, Words] = {
    "mine": Words("自分で書いた記録", "My own entries"),
    "test": Words("テスト・問題", "Tests and questions"),
    "lesson": Words("授業", "Lessons"),
    "device": Words("学習アプリ", "Learning apps"),
}
