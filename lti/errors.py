"""Why a login or launch was refused. Each error carries the HTTP status the edge answers with
and a reason written for the person who sees the page (English source, translated at the edge)."""

from __future__ import annotations

from collections.abc import Mapping


class LtiError(Exception):
    """Base class of every refusal of the LTI tool. -> `status` (always 4xx)."""

    status = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LoginRequestError(LtiError):
    """The platform's third-party login initiation is unusable (unknown platform, bad target)."""


class LaunchRejectedError(LtiError):
    """The id_token or its state failed a check of the 1EdTech security framework. -> 401"""

    status = 401


class BrowserMismatchError(LaunchRejectedError):
    """The state is real but this browser did not start the login (no or another cookie): an
    LMS frame that may not keep cookies. `login_params` start the login again in a new window."""

    def __init__(self, reason: str, login_params: Mapping[str, str]) -> None:
        super().__init__(reason)
        self.login_params = dict(login_params)


class UnknownUserError(LtiError):
    """Nobody is linked to the platform user and the registration does not create people. -> 403"""

    status = 403


class RoleMismatchError(LtiError):
    """The linked person has no account with the role the launch asks for. -> 403"""

    status = 403


class RegistrationError(LtiError):
    """An administrator's registration input is unusable. -> 400"""


class CourseNotLinkedError(LtiError):
    """The LMS course is not linked to the class (nor opened by this teacher). -> 403"""

    status = 403
