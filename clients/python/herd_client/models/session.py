from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.me import Me





T = TypeVar("T", bound="Session")



@_attrs_define
class Session:
    """ 
        Attributes:
            csrf_token (str): Send as `X-CSRF-Token` with every request that changes something.
            expires_at (datetime.datetime):  Example: 2026-11-27T15:00:00Z.
            user (Me):
     """

    csrf_token: str
    expires_at: datetime.datetime
    user: Me
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.me import Me # noqa: PLC0415
        csrf_token = self.csrf_token

        expires_at = self.expires_at.isoformat()

        user = self.user.to_dict()


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "csrf_token": csrf_token,
            "expires_at": expires_at,
            "user": user,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.me import Me # noqa: PLC0415
        d = dict(src_dict)
        csrf_token = d.pop("csrf_token")

        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))




        user = Me.from_dict(d.pop("user"))




        session = cls(
            csrf_token=csrf_token,
            expires_at=expires_at,
            user=user,
        )


        session.additional_properties = d
        return session

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
