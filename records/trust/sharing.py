"""Share links: a pupil shows chosen entries of their portfolio to someone outside school (a
club coach, the school they apply to). A link expires, needs the recipient to sign in or to
give a one-time code, rests on a consent the pupil can revoke at any moment, and every view is
in the pupil's access log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from records.audit import Accessor, record_access
from records.errors import BadRequestError, ForbiddenError, NotFoundError
from records.identity.accounts import AccountInfo
from records.identity.models import Person
from records.models import StoredStatement
from records.portfolio.access import own_portfolio
from records.portfolio.entries import statement_about
from records.portfolio.labels import Reading, read_statement
from records.trust.consent import ConsentRequest, give_consent
from records.trust.models import Consent, ShareLink

MAX_DAYS = 30
MAX_ITEMS = 50
MAX_CODE_TRIES = 5
REQUIREMENTS = ("sign_in", "code")


@dataclass(frozen=True, slots=True)
class NewShare:
    link: ShareLink
    token: str  # shown once: only its hash is kept
    code: str | None  # the one-time code to give the recipient separately


@dataclass(frozen=True, slots=True)
class SharedItem:
    statement_id: str
    reading: Reading


@dataclass(frozen=True, slots=True)
class SharedView:
    title: str
    pupil_name: str
    expires_at: datetime
    items: list[SharedItem]


def create_share(
    session: Session,
    viewer: AccountInfo,
    statement_ids: list[str],
    title: str,
    recipient: str,
    days: int,
    requires: str,
    today: date,
) -> NewShare:
    pupil = own_portfolio(session, viewer, today, "share_links.create")
    problems = []
    if not statement_ids:
        problems.append("choose at least one entry to share")
    if len(statement_ids) > MAX_ITEMS:
        problems.append(f"share at most {MAX_ITEMS} entries in one link")
    if not title.strip() or len(title) > 255:
        problems.append("give the link a title (up to 255 characters)")
    if not recipient.strip():
        problems.append("say who you share with")
    if not 1 <= days <= MAX_DAYS:
        problems.append(f"a link lasts from 1 to {MAX_DAYS} days")
    if requires not in REQUIREMENTS:
        problems.append("choose how the recipient proves who they are")
    if problems:
        raise BadRequestError("; ".join(problems))
    person = session.get(Person, pupil.id)
    assert person is not None  # noqa: S101 - own_portfolio found them
    for statement_id in dict.fromkeys(statement_ids):
        statement_about(session, person, statement_id)  # only the pupil's own current records
    consent, _ = give_consent(
        session,
        viewer,
        pupil.public_id,
        ConsentRequest(
            purpose="portfolio_share",
            recipient_kind="third_party",
            scope="portfolio",
            recipient_name=recipient.strip(),
        ),
        today,
    )
    token = secrets.token_urlsafe(32)
    code = f"{secrets.randbelow(10**6):06d}" if requires == "code" else None
    now = datetime.now(UTC)
    link = ShareLink(
        person_id=pupil.id,
        consent_id=consent.id,
        token_hash=_hash(token),
        title=title.strip(),
        statement_ids=list(dict.fromkeys(statement_ids)),
        requires=requires,
        code_hash=_hash(token + ":" + code) if code else "",
        failed_codes=0,
        created_by_account_id=viewer.id,
        created_at=now,
        expires_at=now + timedelta(days=days),
        note=recipient.strip()[:1000],
    )
    session.add(link)
    session.flush()
    return NewShare(link, token, code)


def shares_of(session: Session, viewer: AccountInfo, today: date) -> list[ShareLink]:
    pupil = own_portfolio(session, viewer, today, "share_links.list")
    return list(
        session.scalars(
            select(ShareLink).where(ShareLink.person_id == pupil.id).order_by(ShareLink.id.desc())
        )
    )


def revoke_share(session: Session, viewer: AccountInfo, link_id: int, today: date) -> None:
    pupil = own_portfolio(session, viewer, today, "share_links.revoke")
    link = session.get(ShareLink, link_id)
    if link is None or link.person_id != pupil.id:
        raise NotFoundError("no such share link")
    if link.revoked_at is None:
        link.revoked_at = datetime.now(UTC)
        consent = session.get(Consent, link.consent_id)
        if consent is not None and consent.revoked_at is None:
            consent.revoked_at = link.revoked_at
            consent.revoked_by_account_id = viewer.id


def requirement_of(session: Session, token: str) -> str:
    """What the recipient must do first ('sign_in' or 'code'), for a link still open."""
    return _open_link(session, token).requires


def open_share(
    session: Session,
    token: str,
    viewer: AccountInfo | None,
    code: str | None,
    locale: str,
) -> SharedView:
    """The shared entries, if the link is open and its requirement met; the view is logged."""
    link = _open_link(session, token)
    if link.requires == "sign_in" and viewer is None:
        raise ForbiddenError("sign in to see what was shared with you")
    if link.requires == "code":
        if link.failed_codes >= MAX_CODE_TRIES:
            raise ForbiddenError(
                "too many wrong codes: this link is locked; ask the pupil for a new one"
            )
        if not code or not hmac.compare_digest(_hash(token + ":" + code.strip()), link.code_hash):
            link.failed_codes += 1
            raise ForbiddenError("the code is not right; check the code the pupil gave you")
    rows = session.scalars(
        select(StoredStatement).where(
            StoredStatement.statement_id.in_(link.statement_ids),
            StoredStatement.voided.is_(False),
        )
    )
    by_id = {row.statement_id: row for row in rows}
    items = [
        SharedItem(sid, read_statement(by_id[sid].full, locale))
        for sid in link.statement_ids
        if sid in by_id  # a withdrawn entry is no longer shared
    ]
    record_access(
        session,
        Accessor(account_id=viewer.id if viewer else None),
        link.person_id,
        f"share.{link.id}",
        "consented",
        count=len(items),
    )
    person = session.get(Person, link.person_id)
    name = person.given_name if person else ""
    return SharedView(link.title, name, link.expires_at, items)


def _open_link(session: Session, token: str) -> ShareLink:
    link = session.scalar(select(ShareLink).where(ShareLink.token_hash == _hash(token)))
    if link is None:
        raise NotFoundError("no such share link")
    now = datetime.now(UTC)
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=UTC)
    if link.revoked_at is not None or expires <= now:
        raise ForbiddenError("this share link has expired or was withdrawn by the pupil")
    consent = session.get(Consent, link.consent_id)
    if consent is None or consent.revoked_at is not None:  # checked now: revocation is at once
        raise ForbiddenError("the pupil no longer agrees to share this")
    return link


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
