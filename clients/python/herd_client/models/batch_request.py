from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="BatchRequest")



@_attrs_define
class BatchRequest:
    """ 
        Attributes:
            guests_per_user (int): Each user ends with at least this many guests; users who already
                have as many get nothing.
            dry_run (bool | Unset): Plan and check capacity only; change nothing.
            expires_at (datetime.datetime | None | Unset): RFC 3339; default: assignment + the configured lifetime.
            image (None | str | Unset): Image to clone; default: the configured one.
            ldap_group (None | str | Unset): A directory group whose members to provision for (`cn`).
            users (list[str] | None | Unset): User ids to provision for.
     """

    guests_per_user: int
    dry_run: bool | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    image: None | str | Unset = UNSET
    ldap_group: None | str | Unset = UNSET
    users: list[str] | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        guests_per_user = self.guests_per_user

        dry_run = self.dry_run

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        image: None | str | Unset
        if isinstance(self.image, Unset):
            image = UNSET
        else:
            image = self.image

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
            "guests_per_user": guests_per_user,
        })
        if dry_run is not UNSET:
            field_dict["dry_run"] = dry_run
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if image is not UNSET:
            field_dict["image"] = image
        if ldap_group is not UNSET:
            field_dict["ldap_group"] = ldap_group
        if users is not UNSET:
            field_dict["users"] = users

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        guests_per_user = d.pop("guests_per_user")

        dry_run = d.pop("dry_run", UNSET)

        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)



                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))


        def _parse_image(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        image = _parse_image(d.pop("image", UNSET))


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


        batch_request = cls(
            guests_per_user=guests_per_user,
            dry_run=dry_run,
            expires_at=expires_at,
            image=image,
            ldap_group=ldap_group,
            users=users,
        )

        return batch_request

