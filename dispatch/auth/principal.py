"""Who is acting: the identity and roles every route and handler checks."""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.auth.roles import Role, parse_role

# Reporter phone numbers are shown in full to these roles only (others see 138****0000).
PHONE_ROLES = frozenset({Role.OPERATOR, Role.DISPATCHER})


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated user as the code sees them.

    ``department`` is set exactly when the user is a liaison, ``street`` exactly when they hold
    the street role; both are catalogue codes.
    """

    id: str
    username: str
    roles: frozenset[Role]
    department: str | None = None
    street: str | None = None
    grid: str | None = None  # set exactly when the user holds the grid role

    def has(self, role: Role | str) -> bool:
        return parse_role(role) in self.roles

    def has_any(self, *roles: Role | str) -> bool:
        return any(self.has(role) for role in roles)

    def role_for(self, *roles: Role | str) -> Role | None:
        """The first of ``roles`` this user holds: the role an action is recorded under."""
        for role in roles:
            if self.has(role):
                return parse_role(role)
        return None

    @property
    def is_liaison_only(self) -> bool:
        return self.roles == {Role.LIAISON}

    @property
    def department_scope(self) -> str | None:
        """The one department a liaison-only user may see; ``None`` means no such limit.

        A liaison who also holds another role sees what that role sees, but still acts on
        tasks only as the liaison of their own department (see ``is_liaison_of``).
        """
        return self.department if self.is_liaison_only else None

    def is_liaison_of(self, department: str) -> bool:
        """May sign, return, contact, extend and reply for ``department``'s tasks."""
        return Role.LIAISON in self.roles and self.department == department

    @property
    def sees_phone_numbers(self) -> bool:
        return bool(self.roles & PHONE_ROLES)
