"""/api/v1: people, classes and a person's statements for signed-in people and scripts."""

import app.api.analytics  # registers /analytics/disparity on bp
import app.api.transfer  # noqa: F401  (registers /learners/<id>/exports, /exports, /imports)
from app.api.views import bp

__all__ = ["bp"]
