from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="GuestPatch")



@_attrs_define
class GuestPatch:
    """ 
        Attributes:
            auto_boot (bool | None | Unset):
            description (None | str | Unset): Text as typed, up to 500 characters; control characters and
                bidirectional controls are refused (`422`).
     """

    auto_boot: bool | None | Unset = UNSET
    description: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        auto_boot: bool | None | Unset
        if isinstance(self.auto_boot, Unset):
            auto_boot = UNSET
        else:
            auto_boot = self.auto_boot

        description: None | str | Unset
        if isinstance(self.description, Unset):
            description = UNSET
        else:
            description = self.description


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if auto_boot is not UNSET:
            field_dict["auto_boot"] = auto_boot
        if description is not UNSET:
            field_dict["description"] = description

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_auto_boot(data: object) -> bool | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(bool | None | Unset, data)

        auto_boot = _parse_auto_boot(d.pop("auto_boot", UNSET))


        def _parse_description(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        description = _parse_description(d.pop("description", UNSET))


        guest_patch = cls(
            auto_boot=auto_boot,
            description=description,
        )

        return guest_patch

