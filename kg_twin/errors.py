"""One error hierarchy for the whole service.

Every error carries a stable machine ``code``, a human ``message``, an optional
``hint`` (what to do about it), an HTTP ``status`` and optional ``where``
(file / line / column / row / feature) so that the CLI and the REST API report
the same thing.

>>> e = InputError("RDF_SYNTAX", "Turtle parse error", hint="check the prefix", where={"line": 3})
>>> e.to_dict()["code"], e.status
('RDF_SYNTAX', 400)
"""

from __future__ import annotations

from typing import Any


class KgTwinError(Exception):
    status: int = 500
    default_code: str = "INTERNAL"

    def __init__(
        self,
        code: str | None = None,
        message: str = "",
        *,
        hint: str | None = None,
        where: dict[str, Any] | None = None,
        errors: list[dict[str, Any]] | None = None,
        status: int | None = None,
    ) -> None:
        self.code = code or self.default_code
        self.message = message or self.code
        self.hint = hint
        self.where = where or {}
        self.errors = errors or []
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "status": self.status,
            "code": self.code,
            "error": self.message,
            "errors": self.errors,
        }
        if self.hint:
            body["hint"] = self.hint
        if self.where:
            body["where"] = self.where
        return body

    def __reduce__(self) -> Any:  # keep all fields across process boundaries (query workers)
        return (_rebuild, (type(self), self.code, self.message, self.hint, self.where, self.errors, self.status))

    def __str__(self) -> str:
        loc = ""
        if self.where:
            loc = " (" + ", ".join(f"{k} {v}" for k, v in self.where.items()) + ")"
        text = f"[{self.code}] {self.message}{loc}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


def _rebuild(cls: type, code: str, message: str, hint: Any, where: Any, errors: Any, status: int) -> KgTwinError:
    return cls(code, message, hint=hint, where=where, errors=errors, status=status)


class InputError(KgTwinError):
    """Malformed input: RDF/SPARQL syntax, bad parameter, bad file."""

    status = 400
    default_code = "BAD_INPUT"


class Unauthorized(KgTwinError):
    status = 401
    default_code = "UNAUTHORIZED"


class Forbidden(KgTwinError):
    status = 403
    default_code = "FORBIDDEN"


class NotFound(KgTwinError):
    status = 404
    default_code = "NOT_FOUND"


class NotAcceptable(KgTwinError):
    status = 406
    default_code = "NOT_ACCEPTABLE"


class Conflict(KgTwinError):
    status = 409
    default_code = "CONFLICT"


class PayloadTooLarge(KgTwinError):
    status = 413
    default_code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaType(KgTwinError):
    status = 415
    default_code = "UNSUPPORTED_MEDIA_TYPE"


class ShapeViolation(KgTwinError):
    status = 422
    default_code = "SHACL_VIOLATION"


class UpstreamError(KgTwinError):
    status = 502
    default_code = "UPSTREAM"


class QueryTimeout(KgTwinError):
    status = 503
    default_code = "QUERY_TIMEOUT"


class StoreBusy(KgTwinError):
    """The on-disk store is owned (locked) by another process."""

    status = 503
    default_code = "STORE_LOCKED"
