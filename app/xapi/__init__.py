"""The xAPI 1.0.3 LRS under /xapi. Importing the view modules registers their routes."""

from app.xapi import documents, resources, statements
from app.xapi.blueprint import bp

__all__ = ["bp", "documents", "resources", "statements"]
