from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.item_status import ItemStatus
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="BatchItemView")



@_attrs_define
class BatchItemView:
    """ 
        Attributes:
            guests (list[str]):
            status (ItemStatus): Where one user of a batch is (SPEC §4): `pending` until placed and
                settled, then one of the others. Stored and sent as its lower-case name.
            username (str):
            error (None | str | Unset):
     """

    guests: list[str]
    status: ItemStatus
    username: str
    error: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        guests = self.guests



        status = self.status.value

        username = self.username

        error: None | str | Unset
        if isinstance(self.error, Unset):
            error = UNSET
        else:
            error = self.error


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "guests": guests,
            "status": status,
            "username": username,
        })
        if error is not UNSET:
            field_dict["error"] = error

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        guests = cast(list[str], d.pop("guests"))


        status = ItemStatus(d.pop("status"))




        username = d.pop("username")

        def _parse_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        error = _parse_error(d.pop("error", UNSET))


        batch_item_view = cls(
            guests=guests,
            status=status,
            username=username,
            error=error,
        )


        batch_item_view.additional_properties = d
        return batch_item_view

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
