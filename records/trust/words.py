"""Plain words for the access log, so a pupil reads "who looked at my data" as sentences.
Every entry has Japanese and English (tests check)."""

from __future__ import annotations

from records.portfolio.vocabulary import Words

# What was looked at or done, by the `resource` the code paths record (prefix match: the
# longest known prefix wins, so new resources of a known kind still read sensibly).
RESOURCES: dict[str, Words] = {
    "portfolio.home": Words("学びのページ", "your learning page"),
    "portfolio.history": Words("記録の一覧", "the list of your records"),
    "portfolio.file": Words("写真やファイル", "a photo or file"),
    "portfolio.feedback": Words("記録へのコメント", "a comment on your entry"),
    "portfolio.new_entry": Words("記録を書くページ", "the page for a new entry"),
    "portfolio.edit_entry": Words("記録をなおすページ", "the page to change an entry"),
    "portfolio.withdraw_entry": Words("記録のとりさげ", "withdrawing an entry"),
    "portfolio": Words("ポートフォリオ", "your portfolio"),
    "class.overview": Words("クラスのようす", "the class overview"),
    "class.log": Words("クラスの活動の記録", "a class activity log"),
    "people.list": Words("名簿", "the list of people"),
    "person": Words("名前などの情報", "your name and details"),
    "statements": Words("学習の記録（データ）", "your learning records (data)"),
    "xapi.agents": Words("名前などの情報（学習アプリから）", "your details (a learning app)"),
    "xapi.state": Words("学習アプリの続きの情報", "a learning app's saved progress"),
    "xapi.agent_profile": Words("学習アプリの設定", "a learning app's profile of you"),
    "xapi.statements": Words(
        "学習の記録（学習アプリから）", "your learning records (a learning app)"
    ),
    "access_log": Words("このページ（だれが見たか）", "this page (who looked at my data)"),
    "consent": Words("同意の記録", "your consents"),
    "share": Words("共有リンクで見せた記録", "records shown through a share link"),
    "share_links": Words("共有リンクの設定", "your share links"),
    "transfer": Words("転校のためのデータ", "your data for a school transfer"),
    "export": Words("データの書き出し", "an export of your data"),
    "import": Words("データの取りこみ", "an import of your data"),
    "erasure": Words("データの消去", "erasing your data"),
}

PURPOSES: dict[str, Words] = {
    "self": Words("自分で", "yourself"),
    "teaching": Words("授業や指導のため", "for teaching"),
    "administration": Words("学校の事務のため", "for school administration"),
    "transfer": Words("転校の手続きのため", "for a school transfer"),
    "analytics": Words("統計のため", "for statistics"),
    "support": Words("サポートのため", "for support"),
    "legal": Words("法令にもとづく対応のため", "for a legal obligation"),
    "consented": Words("あなたが同意して共有したため", "because you agreed to share it"),
}

ROLES: dict[str, Words] = {
    "pupil": Words("児童生徒", "pupil"),
    "guardian": Words("保護者", "guardian"),
    "teacher": Words("先生", "teacher"),
    "school_admin": Words("学校の管理者", "school administrator"),
    "board_analyst": Words("教育委員会", "education board"),
    "system_admin": Words("システム管理者", "system administrator"),
}


def resource_words(resource: str) -> Words:
    best = ""
    for known in RESOURCES:
        if (resource == known or resource.startswith(known + ".")) and len(known) > len(best):
            best = known
    return RESOURCES[best] if best else Words("データ（" + resource + "）", f"data ({resource})")
