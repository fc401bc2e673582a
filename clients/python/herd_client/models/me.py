from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.role import Role
from ..types import UNSET, Unset
from typing import cast

if TYPE_CHECKING:
  from ..models.quota import Quota





T = TypeVar("T", bound="Me")



@_attrs_define
class Me:
    """ 
        Attributes:
            display_name (str):  Example: Alice Student.
            quota (Quota):
            role (Role): What a user may do (SPEC §3). Ordered: a higher role may do what a lower
                one may.
            username (str):  Example: alice.
            email (None | str | Unset):  Example: alice@example.edu.
     """

    display_name: str
    quota: Quota
    role: Role
    username: str
    email: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.quota import Quota # noqa: PLC0415
        display_name = self.display_name

        quota = self.quota.to_dict()

        role = self.role.value

        username = self.username

        email: None | str | Unset
        if isinstance(self.email, Unset):
            email = UNSET
        else:
            email = self.email


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "display_name": display_name,
            "quota": quota,
            "role": role,
            "username": username,
        })
        if email is not UNSET:
            field_dict["email"] = email

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.quota import Quota # noqa: PLC0415
        d = dict(src_dict)
        display_name = d.pop("display_name")

        quota = Quota.from_dict(d.pop("quota"))




        role = Role(d.pop("role"))




        username = d.pop("username")

        def _parse_email(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        email = _parse_email(d.pop("email", UNSET))


        me = cls(
            display_name=display_name,
            quota=quota,
            role=role,
            username=username,
            email=email,
        )


        me.additional_properties = d
        return me

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
