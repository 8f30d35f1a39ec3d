"""OneRoster 1.2 CSV roster import, with the OneRoster Japan Profile (1EdTech Japan).

`import_roster(session, zip_bytes, service_url=..., today=...)` reads a bulk or delta package
(manifest.csv and any of orgs, academicSessions, courses, classes, users, enrollments, roles and
demographics .csv; demographics are read but never kept), checks every row against the package
and the database, and either raises `RosterRejectedError` listing every problem (nothing
written) or writes orgs, sessions, courses, classes, people, identifier links, memberships and
enrollments, and returns an `ImportReport`.

Japan Profile columns: users `metadata.jp.kanaFamilyName`/`kanaGivenName`/`kanaMiddleName`
(kept as the person's kana names), `metadata.jp.homeClass` and any other `metadata.jp.*` (kept
in Person.details); enrollments `metadata.jp.ShussekiNo` (出席番号) and `metadata.jp.PublicFlg`
(kept in Person.details from the homeClass enrollment; also read from users.csv, which wins);
classes `metadata.jp.specialNeeds` (checked). Orgs join the organisation tree (see `orgs`):
schools carry the MEXT school code in `identifier`, districts (boards) the 6-digit
local-government code, states the prefecture code; grades are P1-P6, J1-J3, H1-H3 (E1-E3).

Identifiers devices may send
----------------------------
Every user's identifiers become xAPI agents linked to one person (ActorLink), so a statement
whose actor is any of them is that person's. With `S` = the service URL (PUBLIC_URL, ending
in "/"):

============================  ==========================================================
roster value                  xAPI agent
============================  ==========================================================
sourcedId                     account {homePage: S + "oneroster/sourcedId", name: sourcedId}
userMasterIdentifier          account {homePage: S + "oneroster/userMasterIdentifier", name}
username                      account {homePage: S + "oneroster/username", name: username}
userIds {Google:id}           account {homePage: "https://accounts.google.com", name: id}
userIds {Microsoft:id}        account {homePage: "https://login.microsoftonline.com", name: id}
userIds {Type:id}, others     account {homePage: S + "idp/" + Type, name: id}
email                         mbox "mailto:" + email (an alias: never used to match people)
(the person, always)          account {homePage: S, name: the person's public id}
============================  ==========================================================

IdP types match without regard to case for Google and Microsoft; other types are used as
written (percent-encoded where a URL needs it). A user row is matched to a known person by its
sourcedId, then userMasterIdentifier, then IdP userIds links: a pupil who moves school keeps
one person, however many sourcedIds they collect.
"""

from records.identity.oneroster.errors import RosterRejectedError, RowError
from records.identity.oneroster.identifiers import IDP_HOME_PAGES
from records.identity.oneroster.importer import import_roster
from records.identity.oneroster.report import FileCounts, ImportReport

__all__ = [
    "IDP_HOME_PAGES",
    "FileCounts",
    "ImportReport",
    "RosterRejectedError",
    "RowError",
    "import_roster",
]
