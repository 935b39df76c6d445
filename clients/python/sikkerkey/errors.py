"""Errors carry the vault's stable ``SK_ERR_…`` codes (docs/api.md lists them): branch on ``code``."""
from __future__ import annotations

from typing import Any, Dict, Optional


class SikkerKeyError(Exception):
    """A refusal or failure with a stable code; ``status`` is the HTTP status when the vault answered."""

    def __init__(self, code: str, message: str, status: Optional[int] = None, details: Optional[Dict[str, Any]] = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
