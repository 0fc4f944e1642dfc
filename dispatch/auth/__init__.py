"""Users, roles, passwords and tokens: who may do what (DESIGN.md §4)."""

from dispatch.auth.principal import Principal
from dispatch.auth.roles import Role
from dispatch.auth.users import User

__all__ = ["Principal", "Role", "User"]
