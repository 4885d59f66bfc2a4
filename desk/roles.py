"""Who may do what: experts and admins are named in the store; everyone else is an asker.
Admins give and take roles."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import prompts
from core.errors import InvalidTransition, NotPermitted
from core.people import Domain, Person, Role, UserRef
from escalation.store import EscalationStore

log = logging.getLogger(__name__)


def require_staff(store: EscalationStore, user: UserRef) -> Person:
    """The expert or admin ``user`` is; NotPermitted for anyone else."""
    with store.reading() as tx:
        person = tx.people.get(user.key)
    if person is None or not person.is_staff:
        raise NotPermitted(f"{user.key} is not an expert")
    return person


def require_admin(store: EscalationStore, user: UserRef) -> Person:
    person = require_staff(store, user)
    if person.role is not Role.ADMIN:
        raise NotPermitted(f"{user.key} is not an admin")
    return person


def with_name(user: UserRef, person: Person) -> UserRef:
    """``user`` with a display name: the channel's, else the one on record, else a plain
    专家 — askers and cards never see an internal key such as ``console:admin``."""
    if user.display_name:
        return user
    name = person.user.display_name or prompts.text("desk.notify.unnamed_expert")
    return replace(user, display_name=name)


def grant(
    store: EscalationStore,
    admin: UserRef,
    user: UserRef,
    domains: Sequence[Domain] = (),
    role: Role = Role.EXPERT,
) -> Person:
    """An admin gives ``user`` a staff role (expert by default) with their domains."""
    boss = require_admin(store, admin)
    if role is Role.ASKER:
        raise InvalidTransition("use revoke to take a role away")
    with store.transaction() as tx:
        person = tx.people.set_role(user, role, domains)
        detail = " ".join([role.value, *(d.value for d in domains)])
        tx.console.audit(with_name(admin, boss), "role", user.key, detail)
    log.info("role granted user=%s role=%s by=%s", user.key, role.value, admin.key)
    return person


def revoke(store: EscalationStore, admin: UserRef, user: UserRef) -> Person:
    """An admin makes ``user`` a plain asker again (never themselves)."""
    boss = require_admin(store, admin)
    if user.key == admin.key:
        raise NotPermitted("an admin cannot remove their own role")
    with store.transaction() as tx:
        if tx.people.get(user.key) is None:
            raise NotPermitted(f"{user.key} is not known")
        person = tx.people.set_role(user, Role.ASKER)
        tx.console.audit(with_name(admin, boss), "role", user.key, Role.ASKER.value)
    log.info("role removed user=%s by=%s", user.key, admin.key)
    return person
