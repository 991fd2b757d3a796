"""Desk accounts: add, change, list; sign-in with a lockout after repeated failures
and a throttle per client address. The CLI (`mailroom users`) and the desk call
these same functions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailroom.accounts import audit
from mailroom.accounts.passwords import MIN_LENGTH, decoy_verify, hash_password, needs_rehash, verify_password
from mailroom.accounts.roles import Role, parse_role
from mailroom.errors import UserError
from mailroom.services import Services
from mailroom.store.schema import DeskUser

FAILED = "login.failed"
THROTTLE_WINDOW = timedelta(minutes=15)
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")


class AccountError(UserError):
    pass


@dataclass(frozen=True)
class UserView:
    """What the desk keeps of a signed-in person for one request."""

    id: int
    email: str
    name: str
    role: Role


def view(user: DeskUser) -> UserView:
    return UserView(user.id, user.email, user.name, Role(user.role))


def _check_password(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise AccountError(f"a password needs at least {MIN_LENGTH} characters")


def _email(text: str) -> str:
    address = text.strip().lower()
    if not _EMAIL.match(address):
        raise AccountError(f"not an email address: {text!r}")
    return address


def by_email(session: Session, email: str) -> DeskUser | None:
    return session.scalar(select(DeskUser).where(DeskUser.email == email.strip().lower()))


def add_user(
    services: Services, name: str, email: str, role: Role | str, password: str | None, by: audit.Actor
) -> UserView:
    """A new account; ``password=None`` makes one that signs in only by single sign-on."""
    address = _email(email)
    chosen = parse_role(role) if isinstance(role, str) else role
    if not name.strip():
        raise AccountError("a name is needed")
    if password is not None:
        _check_password(password)
    now = services.clock.now()
    with services.store.transaction() as repo:
        if by_email(repo.session, address) is not None:
            raise AccountError(f"{address} already has an account")
        user = DeskUser(
            email=address,
            name=name.strip(),
            role=chosen.value,
            password_hash=hash_password(password) if password is not None else "",
            active=True,
            failed_logins=0,
            oidc_subject="",
            created_at=now,
        )
        repo.session.add(user)
        repo.session.flush()
        audit.record(repo.session, now, by, "user.add", target=f"user {address}", detail=f"role {chosen}")
        return view(user)


def change_user(
    services: Services,
    email: str,
    by: audit.Actor,
    *,
    role: Role | str | None = None,
    password: str | None = None,
    active: bool | None = None,
    unlock: bool = False,
) -> UserView:
    now = services.clock.now()
    with services.store.transaction() as repo:
        user = by_email(repo.session, email)
        if user is None:
            raise AccountError(f"no account {email.strip().lower()}")
        changes: list[str] = []
        if role is not None:
            user.role = (parse_role(role) if isinstance(role, str) else role).value
            changes.append(f"role {user.role}")
        if password is not None:
            _check_password(password)
            user.password_hash = hash_password(password)
            changes.append("password set")
        if active is not None:
            user.active = active
            changes.append("active" if active else "deactivated")
        if unlock or password is not None:
            user.failed_logins, user.locked_until = 0, None
            changes.append("unlocked")
        audit.record(
            repo.session, now, by, "user.change", target=f"user {user.email}", detail=", ".join(changes)
        )
        if active is False or role is not None:
            from mailroom.accounts.sessions import end_sessions_of

            end_sessions_of(repo.session, user.id)  # a changed role takes effect at once
        return view(user)


def list_users(services: Services) -> list[DeskUser]:
    with services.store.transaction() as repo:
        return list(repo.session.scalars(select(DeskUser).order_by(DeskUser.email)))


def count_users(services: Services) -> int:
    with services.store.transaction() as repo:
        return int(repo.session.scalar(select(func.count()).select_from(DeskUser)) or 0)


@dataclass(frozen=True)
class SignIn:
    user: UserView | None
    refusal: str = ""  # one line for the person: never says which of email or password was wrong


def sign_in(services: Services, email: str, password: str, source: str) -> SignIn:
    """Check a password. Each failure counts against the account (locked after
    ``web.lockout_failures`` in a row) and against the client address (refused
    after ``web.login_attempts_per_address`` in 15 minutes); both are audited."""
    web = services.settings.web
    now = services.clock.now()
    address = email.strip().lower()[:320]
    with services.store.transaction() as repo:
        session = repo.session
        if (
            audit.count_since(session, FAILED, source, now - THROTTLE_WINDOW)
            >= web.login_attempts_per_address
        ):
            audit.record(session, now, audit.Actor(address, source), "login.throttled")
            return SignIn(None, "Too many failed sign-ins from this computer. Try again in 15 minutes.")
        user = by_email(session, address)
        if user is None or not user.active or not user.password_hash:
            decoy_verify(password)
            audit.record(session, now, audit.Actor(address, source), FAILED, detail="unknown or inactive")
            return SignIn(None, "The email address or password is wrong.")
        if user.locked_until is not None and user.locked_until > now:
            audit.record(session, now, audit.Actor(address, source), FAILED, detail="locked")
            return SignIn(None, _locked_message(user.locked_until, now))
        if not verify_password(user.password_hash, password):
            user.failed_logins += 1
            detail = f"wrong password ({user.failed_logins} in a row)"
            if user.failed_logins >= web.lockout_failures:
                user.locked_until = now + timedelta(minutes=web.lockout_minutes)
                user.failed_logins = 0
                detail += f"; locked for {web.lockout_minutes} minutes"
            audit.record(session, now, audit.Actor(address, source), FAILED, detail=detail)
            if user.locked_until is not None and user.locked_until > now:
                return SignIn(None, _locked_message(user.locked_until, now))
            return SignIn(None, "The email address or password is wrong.")
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.failed_logins, user.locked_until, user.last_login_at = 0, None, now
        audit.record(session, now, audit.Actor(address, source), "login")
        return SignIn(view(user))


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return f"This account is locked after repeated failed sign-ins. Try again in {minutes} minutes."


def sign_in_oidc(
    services: Services, subject: str, email: str, name: str, mapped_role: Role | None, source: str
) -> SignIn:
    """A person the identity provider vouched for. Their account is found by the
    provider's subject, else by email (and linked); created when their groups map
    to a role. A role an admin set is kept unless the groups now map to one."""
    now = services.clock.now()
    address = email.strip().lower()
    with services.store.transaction() as repo:
        session = repo.session
        user = session.scalar(select(DeskUser).where(DeskUser.oidc_subject == subject))
        if user is None and address:
            user = by_email(session, address)
            if user is not None and user.oidc_subject and user.oidc_subject != subject:
                user = None  # linked to someone else at the provider: never take it over
        actor = audit.Actor(address or subject, source)
        if user is None:
            if mapped_role is None or not _EMAIL.match(address):
                audit.record(
                    session, now, actor, FAILED, detail="single sign-on: no desk role for this person"
                )
                return SignIn(None, "You have no role on the desk yet. Ask an administrator to add you.")
            user = DeskUser(
                email=address,
                name=name or address,
                role=mapped_role.value,
                password_hash="",
                active=True,
                failed_logins=0,
                oidc_subject=subject,
                created_at=now,
            )
            session.add(user)
            audit.record(
                session, now, actor, "user.add", target=f"user {address}", detail=f"sso, role {mapped_role}"
            )
        if not user.active:
            audit.record(session, now, actor, FAILED, detail="single sign-on: account deactivated")
            return SignIn(None, "Your desk account is deactivated. Ask an administrator.")
        user.oidc_subject = subject
        if mapped_role is not None and user.role != mapped_role.value:
            audit.record(
                session,
                now,
                actor,
                "user.change",
                target=f"user {user.email}",
                detail=f"role {mapped_role} from groups",
            )
            user.role = mapped_role.value
        user.last_login_at = now
        session.flush()
        audit.record(session, now, actor, "login", detail="single sign-on")
        return SignIn(view(user))


def user_by_id(services: Services, user_id: int) -> UserView | None:
    with services.store.transaction() as repo:
        user = repo.session.get(DeskUser, user_id)
        return view(user) if user is not None and user.active else None
