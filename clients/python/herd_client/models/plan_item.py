from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="PlanItem")



@_attrs_define
class PlanItem:
    """ 
        Attributes:
            has (int): Guests the user holds now.
            known (bool): False for a user herd and the directory do not know.
            needs (int): Guests the batch would give them.
            username (str):
     """

    has: int
    known: bool
    needs: int
    username: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        has = self.has

        known = self.known

        needs = self.needs

        username = self.username


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "has": has,
            "known": known,
            "needs": needs,
            "username": username,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        has = d.pop("has")

        known = d.pop("known")

        needs = d.pop("needs")

        username = d.pop("username")

        plan_item = cls(
            has=has,
            known=known,
            needs=needs,
            username=username,
        )


        plan_item.additional_properties = d
        return plan_item

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
