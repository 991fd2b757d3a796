"""Flask sessions kept in the database (mailroom/accounts/sessions.py), so N desk
instances behind any proxy share them, a session can be ended server-side, and
its identifier is replaced at sign-in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from mailroom.accounts import sessions
from mailroom.services import Services

COOKIE = "mailroom_desk"


class DeskSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, token: str, user_id: int | None, data: dict[str, Any], new: bool) -> None:
        def changed(_: Any) -> None:
            self.modified = True

        super().__init__(data, changed)
        self.token = token
        self.user_id = user_id
        self.new = new
        self.modified = False
        self.old_token: str | None = None
        self.ended = False

    def sign_in(self, user_id: int) -> None:
        """A new identifier for the signed-in session (no fixation); the CSRF token
        of the signed-out page is dropped with the old one."""
        self.old_token = None if self.new else self.token
        self.token = sessions.new_token()
        self.user_id = user_id
        self.pop("csrf_token", None)
        self.new = True
        self.modified = True

    def sign_out(self) -> None:
        self.ended = True
        self.clear()


class DbSessionInterface(SessionInterface):
    def __init__(self, services: Services) -> None:
        self.services = services
        web = services.settings.web
        self.idle = timedelta(minutes=web.session_idle_minutes)
        self.longest = timedelta(hours=web.session_max_hours)

    def open_session(self, app: Flask, request: Request) -> DeskSession:
        token = request.cookies.get(COOKIE, "")
        if token:
            now = self.services.clock.now()
            with self.services.store.transaction() as repo:
                loaded = sessions.load(repo.session, token, now, self.idle, self.longest)
            if loaded is not None:
                return DeskSession(loaded.token, loaded.user_id, loaded.data, new=False)
        return DeskSession(sessions.new_token(), None, {}, new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, DeskSession)
        secure = self.services.settings.web.https
        if session.ended:
            with self.services.store.transaction() as repo:
                sessions.end(repo.session, session.token)
            response.delete_cookie(COOKIE, path="/", secure=secure, httponly=True, samesite="Lax")
            return
        # Nothing worth keeping: a visitor who only saw the sign-in page stores no row
        # unless a CSRF token was handed out (the sign-in form needs it back).
        if not session.modified and not session.new:
            return
        if session.new and not session.user_id and not dict(session):
            return
        now = self.services.clock.now()
        loaded = sessions.Loaded(session.token, session.user_id, dict(session))
        with self.services.store.transaction() as repo:
            sessions.save(repo.session, loaded, now, replaces=session.old_token)
        response.set_cookie(COOKIE, session.token, path="/", secure=secure, httponly=True, samesite="Lax")
        response.vary.add("Cookie")
