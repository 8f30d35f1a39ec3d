"""What one statement mentions, gathered while it is validated so it is walked only once."""

from __future__ import annotations

from records.xapi.types import AttachmentMeta


class Mentions:
    """Agent keys and activity ids with their `direct` flag (direct wins), and attachments."""

    __slots__ = ("activities", "agents", "attachments")

    def __init__(self) -> None:
        self.agents: dict[str, bool] = {}
        self.activities: dict[str, bool] = {}
        self.attachments: list[AttachmentMeta] = []

    def agent(self, key: str, direct: bool) -> None:
        self.agents[key] = direct or self.agents.get(key, False)

    def activity(self, activity_id: str, direct: bool) -> None:
        self.activities[activity_id] = direct or self.activities.get(activity_id, False)
