"""Access control in one place: API tokens, roles, and which graphs a caller may touch.

Tokens look like ``kgt_<id>_<secret>``; only a SHA-256 of the secret is stored
(SQLite under the data dir, so the CLI can manage tokens while the server runs).
Roles: ``reader`` < ``writer`` < ``admin``; a grant is for one project or for
``*`` (every project, including creating projects). A project may be public-read.

A caller who may not see a project gets the same answer whether it exists or not:
401 for anonymous callers, 404 for authenticated ones.

>>> import tempfile, pathlib
>>> ts = TokenStore(pathlib.Path(tempfile.mkdtemp()) / "auth.sqlite")
>>> tok = ts.create("campus", "writer", label="ci")
>>> ts.lookup(tok.secret).grants
{'campus': 'writer'}
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Protocol

from kg_twin.errors import InputError, NotFound, Unauthorized, Forbidden

ROLES = {"reader": 1, "writer": 2, "admin": 3}
ALL_PROJECTS = "*"


@dataclass
class Caller:
    token_id: str | None = None
    grants: dict[str, str] = field(default_factory=dict)  # project or "*" -> role
    label: str = ""

    @property
    def anonymous(self) -> bool:
        return self.token_id is None

    def rank(self, project: str) -> int:
        r = max(ROLES.get(self.grants.get(project, ""), 0), ROLES.get(self.grants.get(ALL_PROJECTS, ""), 0))
        return r

    @property
    def is_global_admin(self) -> bool:
        return self.grants.get(ALL_PROJECTS) == "admin"


ANONYMOUS = Caller()


@dataclass
class NewToken:
    id: str
    secret: str
    project: str
    role: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class TokenStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._local = threading.local()
        with self._conn() as c:
            c.execute(
                "CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, hash TEXT NOT NULL UNIQUE, project TEXT NOT NULL,"
                " role TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0)"
            )

    def _conn(self) -> sqlite3.Connection:
        c = getattr(self._local, "conn", None)
        if c is None:
            c = sqlite3.connect(str(self.path), timeout=10, isolation_level=None)
            c.execute("PRAGMA journal_mode=WAL")
            self._local.conn = c
        return c

    def create(self, project: str, role: str, label: str = "") -> NewToken:
        if role not in ROLES:
            raise InputError("BAD_ROLE", f"unknown role {role!r}", hint="use reader, writer or admin")
        tid = secrets.token_hex(6)
        secret = f"kgt_{tid}_{secrets.token_urlsafe(24)}"
        self._conn().execute(
            "INSERT INTO tokens (id, hash, project, role, label, created) VALUES (?,?,?,?,?,?)",
            (tid, _hash(secret), project, role, label, datetime.now(timezone.utc).isoformat(timespec="seconds")),
        )
        return NewToken(tid, secret, project, role)

    def lookup(self, secret: str) -> Caller | None:
        parts = secret.split("_")
        if len(parts) < 3 or parts[0] != "kgt":
            return None
        row = self._conn().execute("SELECT id, hash, project, role, label, revoked FROM tokens WHERE id = ?", (parts[1],)).fetchone()
        if row is None or row[5] or not hmac.compare_digest(row[1], _hash(secret)):
            return None
        return Caller(token_id=row[0], grants={row[2]: row[3]}, label=row[4])

    def list(self, project: str | None = None) -> list[dict[str, object]]:
        q = "SELECT id, project, role, label, created, revoked FROM tokens"
        args: tuple[str, ...] = ()
        if project is not None:
            q += " WHERE project = ?"
            args = (project,)
        rows = self._conn().execute(q + " ORDER BY created, id", args).fetchall()
        return [dict(zip(("id", "project", "role", "label", "created", "revoked"), r)) | {"revoked": bool(r[5])} for r in rows]

    def revoke(self, token_id: str, project: str | None = None) -> bool:
        q = "UPDATE tokens SET revoked = 1 WHERE id = ?"
        args: tuple[str, ...] = (token_id,)
        if project is not None:
            q += " AND project = ?"
            args = (token_id, project)
        cur = self._conn().execute(q, args)
        return cur.rowcount > 0

    def revoke_project(self, project: str) -> None:
        self._conn().execute("UPDATE tokens SET revoked = 1 WHERE project = ?", (project,))


class ProjectDirectory(Protocol):
    """What access decisions need to know about projects (the project registry provides it)."""

    def ids(self) -> list[str]: ...

    def exists(self, project: str) -> bool: ...

    def is_public(self, project: str) -> bool: ...


class Access:
    """Authorisation decisions for the service (used by every endpoint).

    Tokens are always checked against the token store, in-memory stores included: the
    ``memory`` backend is only about where triples live, never a way around authentication.

    >>> import tempfile, pathlib
    >>> class Projects:
    ...     def ids(self): return ["campus", "open"]
    ...     def exists(self, p): return p in self.ids()
    ...     def is_public(self, p): return p == "open"
    >>> acc = Access(Projects(), TokenStore(pathlib.Path(tempfile.mkdtemp()) / "auth.sqlite"))
    >>> acc.readable_projects(ANONYMOUS)
    ['open']
    >>> try:
    ...     acc.require(ANONYMOUS, "campus", "reader")
    ... except Unauthorized as e:
    ...     print(e.status, e.code)
    401 AUTH_REQUIRED
    """

    def __init__(self, projects: ProjectDirectory, tokens: TokenStore, *, anonymous_read_all: bool = False) -> None:
        self.projects = projects
        self.tokens = tokens
        self.anonymous_read_all = anonymous_read_all

    def caller_from_header(self, authorization: str | None) -> Caller:
        if not authorization:
            return ANONYMOUS
        scheme, _, cred = authorization.partition(" ")
        if scheme.lower() != "bearer" or not cred.strip():
            raise Unauthorized("BAD_AUTH_SCHEME", "use 'Authorization: Bearer <token>'", hint="create a token with `kg-twin token create --project P --role reader`")
        caller = self.tokens.lookup(cred.strip())
        if caller is None:
            raise Unauthorized("INVALID_TOKEN", "the token is unknown or revoked", hint="create a new token with `kg-twin token create`")
        return caller

    def rank(self, caller: Caller, project: str) -> int:
        r = caller.rank(project)
        if r == 0 and self.projects.is_public(project):
            r = ROLES["reader"]
        if r == 0 and self.anonymous_read_all:
            r = ROLES["reader"]
        return r

    def require(self, caller: Caller, project: str, role: str) -> None:
        """Raise unless ``caller`` holds ``role`` on an existing ``project``."""
        exists = self.projects.exists(project)
        r = self.rank(caller, project) if exists else caller.rank(project)
        if not exists or r == 0:
            if caller.anonymous:
                raise Unauthorized("AUTH_REQUIRED", "authentication required", hint="send 'Authorization: Bearer <token>'")
            raise NotFound("PROJECT_NOT_FOUND", f"no project {project!r}", hint="list the projects you may read with GET /projects")
        if r < ROLES[role]:
            if caller.anonymous:  # e.g. writing to a public project: credentials would help, so 401
                raise Unauthorized("AUTH_REQUIRED", f"this needs the {role} role on project {project!r}: authenticate", hint="send 'Authorization: Bearer <token>'")
            raise Forbidden("ROLE_REQUIRED", f"this needs the {role} role on project {project!r}", hint="ask a project admin for a token with that role")

    def require_global_admin(self, caller: Caller) -> None:
        if caller.anonymous:
            raise Unauthorized("AUTH_REQUIRED", "authentication required", hint="send 'Authorization: Bearer <token>' of a '*' admin token")
        if not caller.is_global_admin:
            raise Forbidden("ADMIN_REQUIRED", "this needs an admin token for all projects ('*')", hint="create one with `kg-twin token create --project '*' --role admin`")

    def readable_projects(self, caller: Caller) -> list[str]:
        return [p for p in self.projects.ids() if self.rank(caller, p) >= ROLES["reader"]]

    def filter_projects(self, caller: Caller, projects: Iterable[str]) -> list[str]:
        return [p for p in projects if self.rank(caller, p) >= ROLES["reader"]]
