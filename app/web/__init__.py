"""Browser pages. The e-portfolio grows here; for now: sign in, sign out, a home page."""

from app.web.views import bp

__all__ = ["bp"]
