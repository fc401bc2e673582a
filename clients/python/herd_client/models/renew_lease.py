from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="RenewLease")



@_attrs_define
class RenewLease:
    """ 
        Attributes:
            duration_minutes (int | None | Unset): From now; default: the policy's `default_minutes`. More than
                `max_minutes` is shortened to it. Example: 90.
     """

    duration_minutes: int | None | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        duration_minutes: int | None | Unset
        if isinstance(self.duration_minutes, Unset):
            duration_minutes = UNSET
        else:
            duration_minutes = self.duration_minutes


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if duration_minutes is not UNSET:
            field_dict["duration_minutes"] = duration_minutes

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_duration_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        duration_minutes = _parse_duration_minutes(d.pop("duration_minutes", UNSET))


        renew_lease = cls(
            duration_minutes=duration_minutes,
        )

        return renew_lease

