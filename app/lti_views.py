"""LTI 1.3 over HTTP: the tool's key set, OIDC login initiation, the id_token launch, the
deep-linking picker, and school admins' platform registrations.

Each view translates HTTP into calls of lti/ and commits. Every refusal is a 4xx page with its
reason (lti.errors), never a 500. The state cookie is `SameSite=None; Secure` so it survives the
platform's cross-site form post inside an LMS frame; where a frame cannot keep our session
cookie, the launch offers to continue in a new window.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_login import login_required, login_user
from itsdangerous import BadSignature, URLSafeTimedSerializer

from app.auth import SignedIn, current_account
from app.csrf import csrf
from app.db import get_session
from app.lti_common import origin, refused, url_policy, with_policy
from app.lti_courses import add_course_routes
from app.lti_stores import SqlNonces, SqlRegistrations, SqlStates, SqlToolKeys
from app.urls import public_url
from app.web.common import locale, today
from lti.contexts import remember_context, roster_class
from lti.deep_linking import DEFAULT_POINTS, DeepLinkRequest, choose_activity, response_token
from lti.errors import (
    BrowserMismatchError,
    LaunchRejectedError,
    LtiError,
    RoleMismatchError,
)
from lti.handoff import issue_handoff, redeem_handoff
from lti.launch import Launch, check_state, validate_launch
from lti.models import LtiPlatform
from lti.oidc import LOGIN_LIFETIME, begin_login
from lti.people import LaunchUser, resolve_user
from lti.platform_keys import PlatformKeyCache
from lti.ports import LoginState, Registration
from lti.record import record_launch
from lti.registrations import (
    add_deployment,
    platforms_of,
    register_platform,
    set_platform_active,
)
from records.errors import ForbiddenError
from records.identity.access import readable_classes
from records.identity.accounts import load_account
from records.identity.administration import School, administered_school
from records.portfolio.vocabulary import ENTRY_KINDS

bp = Blueprint("lti", __name__)
add_course_routes(bp)  # the class's LMS course pages (NRPS sync, gradebook)

_KEYS = "ashiato.lti.platform_keys"
STATE_COOKIE = "lti1p3-state-"
# Where a launch lands, by custom parameter `activity` (e.g. from a deep link).
ACTIVITIES = {"reflection": "reflection", "activity": "activity", "goal": "goal"}
DEEP_LINK_MAX_AGE = 3600  # seconds a teacher has to choose an activity


def init_app(app: Flask) -> None:
    app.extensions[_KEYS] = PlatformKeyCache(
        ttl_seconds=app.config.get("LTI_JWKS_TTL", 300),
        cooldown_seconds=app.config.get("LTI_JWKS_REFETCH_COOLDOWN", 5),
        policy=url_policy(app.config),
    )


def launch_url() -> str:
    return public_url() + "lti/launch"


@bp.get("/jwks.json")
def jwks() -> ResponseReturnValue:
    """The tool's public keys (current and previous), for platforms to verify our messages."""
    keys = SqlToolKeys(get_session())
    keys.signing_key()  # made on first use
    published = keys.published()
    get_session().commit()
    response = jsonify({"keys": published})
    response.cache_control.public = True
    response.cache_control.max_age = 300
    return response


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """OIDC third-party login initiation -> authentication request at the platform."""
    session = get_session()
    params = {name: str(value) for name, value in request.values.items()}
    try:
        redirect_to = begin_login(
            params,
            launch_url=launch_url(),
            registrations=SqlRegistrations(session),
            states=SqlStates(session),
            nonces=SqlNonces(session),
            now=datetime.now(UTC),
        )
    except LtiError as exc:
        session.rollback()
        return refused(exc)
    session.commit()
    response = make_response(redirect(redirect_to.url))
    response.set_cookie(
        STATE_COOKIE + redirect_to.state,
        redirect_to.state,
        max_age=int(LOGIN_LIFETIME.total_seconds()),
        secure=True,
        httponly=True,
        samesite="None",
        path="/lti/",
    )
    return response


@bp.post("/launch")
def launch() -> ResponseReturnValue:
    """The platform's form_post of the id_token: validate, link, sign in, record, land."""
    session = get_session()
    now = datetime.now(UTC)
    state = request.form.get("state", "")
    login_state: LoginState | None = None
    try:
        login_state = check_state(
            state, request.cookies.get(STATE_COOKIE + state), SqlStates(session), now
        )
        # The state is used whatever follows; committed now, so that no write is pending while
        # the platform's key set is fetched over the network.
        session.commit()
        checked = validate_launch(
            request.form.get("id_token", ""),
            login_state,
            registrations=SqlRegistrations(session),
            keys=current_app.extensions[_KEYS],
            nonces=SqlNonces(session),
            now=now,
        )
    except LtiError as exc:
        session.commit()  # the state and nonce stay used: a refused launch cannot be replayed
        return refused(exc, _launch_frame_origins(exc, login_state))
    session.commit()
    frame = _origins(checked.registration)
    try:
        user = resolve_user(session, checked, public_url(), request.remote_addr or "")
        if checked.deep_linking is not None and user.role != "teacher":
            raise RoleMismatchError("only teachers can place Ashiato activities in a course")
        record_launch(session, checked, user.person, public_url())
        remember_context(session, checked, now)
    except LtiError as exc:
        session.rollback()  # nobody half-created
        return refused(exc, frame)
    target = _landing(checked, user)
    if request.headers.get("Sec-Fetch-Dest") == "iframe":
        # A frame inside the LMS cannot keep our (SameSite=Lax) session cookie: continue in a
        # new window, signed in once by a short-lived ticket.
        ticket = issue_handoff(session, user.account.id, target, now)
        session.commit()
        link = url_for("lti.continue_in_window", ticket=ticket)
        page = with_policy(render_template("lti/frame.html", link=link), frame_origins=frame)
        return _forget_state(page, state)
    session.commit()
    login_user(SignedIn(user.account))
    return _forget_state(redirect(target), state)


@bp.get("/continue/<ticket>")
def continue_in_window(ticket: str) -> ResponseReturnValue:
    """The new-window half of a launch from a frame: sign in with the ticket, once."""
    session = get_session()
    try:
        account_id, target = redeem_handoff(session, ticket, datetime.now(UTC))
        account = load_account(session, account_id)
    except LtiError as exc:
        session.rollback()
        return refused(exc)
    session.commit()
    login_user(SignedIn(account))
    return redirect(target)


@bp.get("/deep-link")
@login_required
def deep_link() -> ResponseReturnValue:
    """Deep Linking: the teacher chooses the Ashiato activity to place in the course."""
    token = request.args.get("request", "")
    try:
        _deep_link_request(token)
    except LtiError as exc:
        return refused(exc)
    return render_template(
        "lti/deep_link.html", token=token, kinds=_kind_titles(), points=DEFAULT_POINTS
    )


@bp.post("/deep-link")
@login_required
def deep_link_choose() -> ResponseReturnValue:
    """The signed LtiDeepLinkingResponse, posted by the teacher's browser to the platform."""
    csrf.protect()  # a form of ours (the blueprint is exempt for the platform's posts)
    session = get_session()
    try:
        dl_request = _deep_link_request(request.form.get("request", ""))
        choice = choose_activity(
            request.form.get("kind", ""),
            request.form.get("unit", ""),
            _kind_titles(),
            request.form.get("points", ""),
        )
        jwt_response = response_token(
            dl_request,
            choice,
            launch_url=launch_url(),
            key=SqlToolKeys(session).signing_key(),
            now=datetime.now(UTC),
        )
    except LtiError as exc:
        session.rollback()
        return refused(exc)
    session.commit()  # the tool key, when this is the first use
    page = render_template(
        "lti/deep_link_return.html",
        return_url=dl_request.return_url,
        jwt_response=jwt_response,
        title=choice.title,
    )
    return with_policy(page, form_origins=[origin(dl_request.return_url)])


@bp.get("/schools/<code>/platforms")
@login_required
def platforms(code: str) -> ResponseReturnValue:
    """A school's LTI platform registrations (school admins of it, system admins)."""
    session = get_session()
    school = _administered(code)
    registered = platforms_of(session, school.id)
    return render_template(
        "lti/platforms.html",
        school=school,
        platforms=registered,
        tool={
            "login": public_url() + "lti/login",
            "launch": launch_url(),
            "jwks": public_url() + "lti/jwks.json",
        },
    )


@bp.post("/schools/<code>/platforms")
@login_required
def platforms_register(code: str) -> ResponseReturnValue:
    csrf.protect()
    session = get_session()
    school = _administered(code)
    form = request.form
    try:
        register_platform(
            session,
            issuer=form.get("issuer", "").strip(),
            client_id=form.get("client_id", "").strip(),
            auth_login_url=form.get("auth_login_url", "").strip(),
            token_url=form.get("token_url", "").strip(),
            jwks_url=form.get("jwks_url", "").strip(),
            org_code=school.code,
            unknown_users=form.get("unknown_users", "refuse"),
            title=form.get("title", "").strip()[:255],
            policy=url_policy(),
        )
    except LtiError as exc:
        session.rollback()
        return refused(exc)
    session.commit()
    flash(gettext("The platform is registered. Now add its deployment ids."))
    return redirect(url_for("lti.platforms", code=school.code))


@bp.post("/schools/<code>/platforms/<int:platform_id>/deployments")
@login_required
def platforms_add_deployment(code: str, platform_id: int) -> ResponseReturnValue:
    csrf.protect()
    session = get_session()
    school = _administered_platform(code, platform_id)
    try:
        # Launches through it belong to this school (never another school, whatever the id).
        add_deployment(session, platform_id, request.form.get("deployment_id", "").strip(), code)
    except LtiError as exc:
        session.rollback()
        return refused(exc)
    session.commit()
    flash(gettext("The deployment is added."))
    return redirect(url_for("lti.platforms", code=school.code))


@bp.post("/schools/<code>/platforms/<int:platform_id>/active")
@login_required
def platforms_set_active(code: str, platform_id: int) -> ResponseReturnValue:
    """Stop (or resume) a platform's launches and service calls."""
    csrf.protect()
    session = get_session()
    school = _administered_platform(code, platform_id)
    active = request.form.get("active") == "1"
    set_platform_active(session, platform_id, active)
    session.commit()
    flash(
        gettext("The platform is active again.")
        if active
        else gettext("The platform is inactive: its launches are refused.")
    )
    return redirect(url_for("lti.platforms", code=school.code))


def _administered_platform(code: str, platform_id: int) -> School:
    """The school the viewer administers, which must own the platform (404 otherwise)."""
    school = _administered(code)
    platform = get_session().get(LtiPlatform, platform_id)
    if platform is None or platform.org_id != school.id:
        abort(404)
    return school


def _administered(code: str) -> School:
    account = current_account()
    if account is None:  # pragma: no cover - login_required
        abort(401)
    try:
        return administered_school(get_session(), account, code)
    except ForbiddenError:
        abort(403)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="ashiato.lti.deep-link")


def _deep_link_request(token: str) -> DeepLinkRequest:
    try:
        raw = _serializer().loads(token, max_age=DEEP_LINK_MAX_AGE)
    except BadSignature:
        raise LaunchRejectedError(
            "this deep-linking page has expired or was changed; start again in the course"
        ) from None
    dl_request = DeepLinkRequest.from_dict(raw)
    account = current_account()
    if account is None or account.id != dl_request.account_id or not account.has_role("teacher"):
        raise RoleMismatchError("this deep-linking page belongs to another teacher")
    return dl_request


def _kind_titles() -> dict[str, str]:
    here = locale()
    return {kind: ENTRY_KINDS[kind].get(here) for kind in ("reflection", "activity", "goal")}


def _landing(checked: Launch, user: LaunchUser) -> str:
    if checked.deep_linking is not None:
        dl_request = DeepLinkRequest(
            platform_id=checked.registration.id,
            issuer=checked.registration.issuer,
            client_id=checked.registration.client_id,
            deployment_id=checked.deployment.deployment_id,
            return_url=checked.deep_linking.return_url,
            data=checked.deep_linking.data,
            accept_types=checked.deep_linking.accept_types,
            account_id=user.account.id,
            accept_lineitem=checked.deep_linking.accept_lineitem,
        )
        return url_for("lti.deep_link", request=_serializer().dumps(dl_request.as_dict()))
    activity = checked.custom.get("activity")
    if user.role == "pupil" and isinstance(activity, str) and activity in ACTIVITIES:
        unit = checked.custom.get("unit")
        if isinstance(unit, str) and unit:
            return url_for("web.portfolio.new_entry", kind=ACTIVITIES[activity], unit=unit[:100])
        return url_for("web.portfolio.new_entry", kind=ACTIVITIES[activity])
    if user.role == "teacher":
        # From a course that is one of the teacher's classes (same roster id): that class.
        klass = roster_class(get_session(), checked.deployment.org_id, checked.context_id)
        if klass is not None and klass.id in set(
            get_session().scalars(readable_classes(user.account, today()))
        ):
            return url_for("web.classes.show", class_id=klass.id)
        return url_for("web.classes.index")
    return url_for("web.portfolio.home")


def _forget_state(body: ResponseReturnValue, state: str) -> ResponseReturnValue:
    response = make_response(body)
    if state:
        response.delete_cookie(
            STATE_COOKIE + state, path="/lti/", secure=True, httponly=True, samesite="None"
        )
    return response


def _origins(registration: Registration) -> list[str]:
    """Where the platform's pages (which frame ours) live."""
    return sorted({origin(registration.issuer), origin(registration.auth_login_url)})


def _launch_frame_origins(exc: LtiError, login_state: LoginState | None) -> list[str]:
    registrations = SqlRegistrations(get_session())
    registration = None
    if login_state is not None:
        registration = registrations.get(login_state.platform_id)
    elif isinstance(exc, BrowserMismatchError):
        params = exc.login_params
        found = registrations.find(params.get("iss", ""), params.get("client_id"))
        registration = found[0] if len(found) == 1 else None
    return _origins(registration) if registration is not None else []
