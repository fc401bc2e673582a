from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="ReclaimRequest")



@_attrs_define
class ReclaimRequest:
    """ 
        Attributes:
            dry_run (bool | Unset): List what would be decommissioned; change nothing.
            ldap_group (None | str | Unset):
            users (list[str] | None | Unset):
     """

    dry_run: bool | Unset = UNSET
    ldap_group: None | str | Unset = UNSET
    users: list[str] | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        dry_run = self.dry_run

        ldap_group: None | str | Unset
        if isinstance(self.ldap_group, Unset):
            ldap_group = UNSET
        else:
            ldap_group = self.ldap_group

        users: list[str] | None | Unset
        if isinstance(self.users, Unset):
            users = UNSET
        elif isinstance(self.users, list):
            users = self.users


        else:
            users = self.users


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if dry_run is not UNSET:
            field_dict["dry_run"] = dry_run
        if ldap_group is not UNSET:
            field_dict["ldap_group"] = ldap_group
        if users is not UNSET:
            field_dict["users"] = users

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        dry_run = d.pop("dry_run", UNSET)

        def _parse_ldap_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ldap_group = _parse_ldap_group(d.pop("ldap_group", UNSET))


        def _parse_users(data: object) -> list[str] | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                users_type_0 = cast(list[str], data)

                return users_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(list[str] | None | Unset, data)

        users = _parse_users(d.pop("users", UNSET))


        reclaim_request = cls(
            dry_run=dry_run,
            ldap_group=ldap_group,
            users=users,
        )

        return reclaim_request

