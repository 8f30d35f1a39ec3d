"""Portability: signed, lossless transfer packages (issue 5)."""
