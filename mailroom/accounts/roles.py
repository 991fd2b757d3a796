"""Roles and what each may do. One table, read by the desk's views and the use cases
alike, so a permission is granted or refused in one place."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    INBOX = "inbox"  # triage, drafts and letters
    OFFICER = "officer"  # their own cases and deadlines
    MANAGER = "manager"  # every case, assignment, stage 2 approval
    RECORDS = "records"  # case files and packs, read only
    ADMIN = "admin"  # people and settings


class Permission(enum.StrEnum):
    SEE_ALL_CASES = "see_all_cases"  # not only the cases assigned to oneself
    WORK_INBOX = "work_inbox"  # triage, quarantine, drafting
    EDIT_CASE = "edit_case"  # record steps, parties, contact
    REVIEW_LETTERS = "review_letters"  # revise, replace, approve (stage 2: see settings)
    ASSIGN = "assign"  # assign and reassign cases
    SEE_TEAM = "see_team"  # the team view
    MANAGE_USERS = "manage_users"
    SEE_OUTBOX = "see_outbox"
    MAKE_PACKS = "make_packs"  # build and download a case's evidence pack


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.INBOX: frozenset(
        {
            Permission.SEE_ALL_CASES,
            Permission.WORK_INBOX,
            Permission.EDIT_CASE,
            Permission.REVIEW_LETTERS,
            Permission.SEE_OUTBOX,
        }
    ),
    Role.OFFICER: frozenset({Permission.EDIT_CASE, Permission.REVIEW_LETTERS}),
    Role.MANAGER: frozenset(
        {
            Permission.SEE_ALL_CASES,
            Permission.WORK_INBOX,
            Permission.EDIT_CASE,
            Permission.REVIEW_LETTERS,
            Permission.ASSIGN,
            Permission.SEE_TEAM,
            Permission.SEE_OUTBOX,
            Permission.MAKE_PACKS,
        }
    ),
    Role.RECORDS: frozenset({Permission.SEE_ALL_CASES, Permission.MAKE_PACKS}),
    Role.ADMIN: frozenset(
        {Permission.SEE_ALL_CASES, Permission.MANAGE_USERS, Permission.SEE_OUTBOX, Permission.MAKE_PACKS}
    ),
}


def allows(role: Role | str, permission: Permission) -> bool:
    try:
        return permission in _GRANTS[Role(role)]
    except ValueError:
        return False  # an unknown role in the database may do nothing


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        from mailroom.errors import UserError

        raise UserError(f"unknown role {text!r} (the roles are {', '.join(r.value for r in Role)})") from None
