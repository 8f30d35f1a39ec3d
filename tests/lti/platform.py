"""A small LTI 1.3 platform for tests, built on the `lti1p3platform` package and served over HTTP
on localhost in a thread: its key set (JWKS) and its OIDC authentication endpoint.

A test asks it to start a launch (`start_launch`), which gives the login-initiation URL of the
tool; after the tool's redirect, `authenticate` plays the platform's authentication endpoint and
returns the form the browser would post to the tool (id_token and state). A `tamper` function
may change the claims, header or signing key before signing, for the refusal tests.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from werkzeug.serving import make_server

ISSUER = "https://portal.example.jp"
CLIENT_ID = "ashiato-client-1"
DEPLOYMENT_ID = "B113210000015"  # a deployment id shaped like the school's MEXT code
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"

NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
LINEITEM_READ_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
RESULT_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"

Tamper = Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], dict[str, Any], Any]]


def new_private_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def public_pem(private_pem: str) -> str:
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@dataclass
class PendingLaunch:
    user: str
    roles: list[str]
    claims: dict[str, Any] = field(default_factory=dict)
    message_type: str = "LtiResourceLinkRequest"
    deployment_id: str = DEPLOYMENT_ID
    tamper: Tamper | None = None


class _Config(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration  # type: ignore[return-value]


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, params: dict[str, Any], config: _Config) -> None:
        super().__init__(request=None, platform_config=config)  # type: ignore[arg-type]
        self._params = params

    def get_preflight_response(self) -> dict[str, Any]:
        return self._params

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return launch_data


_FIRST_KEY: list[str] = []


def first_private_pem() -> str:
    """The platform's first key, made once per test run (RSA generation is slow)."""
    if not _FIRST_KEY:
        _FIRST_KEY.append(new_private_pem())
    return _FIRST_KEY[0]


class TestPlatform:
    """The platform, its keys, and its HTTP server (start() / stop())."""

    __test__ = False  # not a test class

    def __init__(self, tool_login_url: str, tool_launch_url: str) -> None:
        self.tool_login_url = tool_login_url
        self.tool_launch_url = tool_launch_url
        self.private_pem = first_private_pem()
        self.pending: dict[str, PendingLaunch] = {}
        self.jwks_requests = 0
        self.tool_jwks: dict[str, Any] | None = None  # the tool's key set, for service tokens
        self.members: list[dict[str, Any]] = []
        self.page_size = 2
        self.line_items: list[dict[str, Any]] = []
        self.scores: list[dict[str, Any]] = []
        # The gradebook: line item id -> userId -> result (a posted score updates it).
        self.results: dict[str, dict[str, dict[str, Any]]] = {}
        self.grant_results = True  # whether tokens may carry the result.readonly scope
        self.token_requests = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.base_url = ""

    # --- HTTP ------------------------------------------------------------------------------

    def start(self) -> None:
        web = Flask("test-platform")

        @web.get("/jwks")
        def jwks() -> Any:
            self.jwks_requests += 1
            return jsonify(self.config().get_jwks())

        @web.get("/auth")
        def auth() -> Any:
            return jsonify(self.authenticate_params(request.args.to_dict()))

        @web.post("/token")
        def token() -> Any:
            self.token_requests += 1
            config = self.config()
            assert self.tool_jwks is not None, "set platform.tool_jwks first"
            config.get_registration().set_tool_key_set(self.tool_jwks)
            try:
                granted = config.get_access_token(request.form.to_dict())
            except Exception as exc:
                return jsonify({"error": "invalid_client", "detail": str(exc)}), 400
            if not self.grant_results:
                scopes = [s for s in granted["scope"].split() if s != RESULT_SCOPE]
                granted["scope"] = " ".join(scopes)
            return jsonify(granted)

        @web.get("/memberships")
        def memberships() -> Any:
            self._check_bearer(NRPS_SCOPE)
            page = int(request.args.get("page", "1"))
            start = (page - 1) * self.page_size
            body = {
                "id": self.base_url + "/memberships",
                "context": {"id": "course-4-1", "title": "4年1組 算数"},
                "members": self.members[start : start + self.page_size],
            }
            answer = jsonify(body)
            answer.mimetype = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
            if start + self.page_size < len(self.members):
                answer.headers["Link"] = (
                    f'<{self.base_url}/memberships?page={page + 1}>; rel="next"'
                )
            return answer

        @web.get("/lineitems")
        def lineitems() -> Any:
            self._check_bearer(LINEITEM_READ_SCOPE)
            return jsonify(self.line_items)

        @web.post("/lineitems/<item>/scores")
        def scores(item: str) -> Any:
            self._check_bearer(SCORE_SCOPE)
            assert request.mimetype == "application/vnd.ims.lis.v1.score+json"
            score = request.get_json(force=True)
            self.scores.append({"lineitem": item, **score})
            self.set_result(
                item,
                score["userId"],
                score["scoreGiven"],
                score["scoreMaximum"],
                score.get("comment"),
            )
            return "", 204

        @web.get("/lineitems/<item>/results")
        def results(item: str) -> Any:
            self._check_bearer(RESULT_SCOPE)
            answer = jsonify(
                list(self.results.get(self.base_url + f"/lineitems/{item}", {}).values())
            )
            answer.mimetype = "application/vnd.ims.lis.v2.resultcontainer+json"
            return answer

        self._server = make_server("127.0.0.1", 0, web, threaded=True)
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def set_result(
        self, item: str, user_id: str, score: float, maximum: float, comment: str | None = None
    ) -> None:
        """What the gradebook holds for a user (as a teacher in the LMS would change it)."""
        item_url = item if item.startswith("http") else self.base_url + f"/lineitems/{item}"
        self.results.setdefault(item_url, {})[user_id] = {
            "id": f"{item_url}/results/{user_id}",
            "scoreOf": item_url,
            "userId": user_id,
            "resultScore": score,
            "resultMaximum": maximum,
            "comment": comment,
        }

    def accept_deep_link(self, response_jwt: str) -> list[dict[str, Any]]:
        """The platform's deep-linking return: verify our response with our published key set
        (tool_jwks) and create the gradebook columns the content items ask for."""
        config = self.config()
        assert self.tool_jwks is not None, "set platform.tool_jwks first"
        config.get_registration().set_tool_key_set(self.tool_jwks)
        items: list[dict[str, Any]] = config.validate_deeplinking_resp({"JWT": response_jwt})
        for item in items:
            wanted = item.get("lineItem")
            if wanted:
                number = len(self.line_items) + 1
                self.line_items.append(
                    {
                        "id": self.base_url + f"/lineitems/{number}",
                        "resourceLinkId": f"link-{number}",
                    }
                    | wanted
                )
        return items

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _check_bearer(self, scope: str) -> None:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            valid = scheme.lower() == "bearer" and self.config_with_registration().validate_token(
                token, [scope]
            )
        except Exception:
            valid = False
        if not valid:
            abort(401)

    def config_with_registration(self) -> _Config:
        config = self.config()
        config.get_registration()
        return config

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/jwks"

    @property
    def auth_url(self) -> str:
        return self.base_url + "/auth"

    @property
    def token_url(self) -> str:
        return self.base_url + "/token"

    # --- lti1p3platform ----------------------------------------------------------------------

    def registration(self) -> Registration:
        return (
            Registration()
            .set_iss(ISSUER)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT_ID)
            .set_oidc_login_url(self.tool_login_url)
            .set_launch_url(self.tool_launch_url)
            .set_platform_private_key(self.private_pem)
            .set_platform_public_key(public_pem(self.private_pem))
        )

    def config(self) -> _Config:
        return _Config(registration=self.registration())

    def kid(self) -> str:
        kid = self.registration().get_kid()
        assert kid
        return kid

    def rotate_key(self) -> None:
        """A new platform key pair: the key set now publishes only the new key."""
        self.private_pem = new_private_pem()

    def start_launch(self, launch: PendingLaunch) -> str:
        """The tool's login-initiation URL for this launch (what the platform's page links to)."""
        hint = secrets.token_urlsafe(12)
        self.pending[hint] = launch
        login = _Login(request=None, platform_config=self.config())
        login.set_lti_message_hint(hint=hint)
        url: str = login.initiate_login(launch.user)
        return url

    def authenticate(self, auth_request_url: str) -> dict[str, Any]:
        """Play the browser: GET the platform's authentication endpoint over HTTP."""
        assert auth_request_url.startswith(self.auth_url + "?"), auth_request_url
        answer = requests.get(auth_request_url, timeout=10)
        assert answer.status_code == 200, answer.text
        data: dict[str, Any] = answer.json()
        return data

    def authenticate_params(self, params: dict[str, str]) -> dict[str, Any]:
        """The platform's checks of the authentication request, then the signed id_token."""
        hint = params.get("lti_message_hint", "")
        pending = self.pending.get(hint)  # passed back unaltered, or unknown here
        assert pending is not None, "lti_message_hint was not passed back unaltered"
        assert params["login_hint"] == pending.user
        assert params["client_id"] == CLIENT_ID
        assert params["redirect_uri"] == self.tool_launch_url
        assert params["response_type"] == "id_token"
        assert params["response_mode"] == "form_post"
        assert params["scope"] == "openid"
        assert params["prompt"] == "none"
        launch = _Launch(params, self.config())
        launch._registration = launch._platform_config.get_registration()
        launch.validate_preflight_response(params)
        launch.set_user_data(pending.user, pending.roles, full_name="山田 花子")
        launch.set_resource_link_claim("link-1", title="分数のふりかえり")
        launch.set_launch_context_claim("course-4-1", context_title="4年1組 算数")
        launch.set_extra_claims(pending.claims)
        claims, state = launch.get_launch_data()
        claims["https://purl.imsglobal.org/spec/lti/claim/deployment_id"] = pending.deployment_id
        claims["https://purl.imsglobal.org/spec/lti/claim/message_type"] = pending.message_type
        now = int(time.time())
        claims.update({"iat": now, "exp": now + 300})
        header: dict[str, Any] = {"kid": self.kid()}
        key: Any = self.private_pem
        if pending.tamper is not None:
            claims, header, key = pending.tamper(claims, header)
        algorithm = header.pop("alg", "RS256")
        id_token = jwt.encode(
            {k: v for k, v in claims.items() if v is not None}, key, algorithm, headers=header
        )
        return {"action": params["redirect_uri"], "id_token": id_token, "state": state}


def unsigned_token(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """An `alg: none` token (PyJWT will not sign one with a key)."""
    return jwt.encode(claims, None, "none", headers=header)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
