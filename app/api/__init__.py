"""/api/v1: people, classes and a person's statements for signed-in people and scripts."""

from app.api.views import bp

__all__ = ["bp"]
