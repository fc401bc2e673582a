from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.pace import Pace
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="StagedRequest")



@_attrs_define
class StagedRequest:
    """ 
        Attributes:
            batch_size (int | None | Unset): Guests per batch (default 15). Default: 15.
            interval_seconds (int | None | Unset): Seconds between batches (default 30); `fixed` pace only. Default: 30.
            pace (None | Pace | Unset):
     """

    batch_size: int | None | Unset = 15
    interval_seconds: int | None | Unset = 30
    pace: None | Pace | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        batch_size: int | None | Unset
        if isinstance(self.batch_size, Unset):
            batch_size = UNSET
        else:
            batch_size = self.batch_size

        interval_seconds: int | None | Unset
        if isinstance(self.interval_seconds, Unset):
            interval_seconds = UNSET
        else:
            interval_seconds = self.interval_seconds

        pace: None | str | Unset
        if isinstance(self.pace, Unset):
            pace = UNSET
        elif isinstance(self.pace, Pace):
            pace = self.pace.value
        else:
            pace = self.pace


        field_dict: dict[str, Any] = {}

        field_dict.update({
        })
        if batch_size is not UNSET:
            field_dict["batch_size"] = batch_size
        if interval_seconds is not UNSET:
            field_dict["interval_seconds"] = interval_seconds
        if pace is not UNSET:
            field_dict["pace"] = pace

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        def _parse_batch_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        batch_size = _parse_batch_size(d.pop("batch_size", UNSET))


        def _parse_interval_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        interval_seconds = _parse_interval_seconds(d.pop("interval_seconds", UNSET))


        def _parse_pace(data: object) -> None | Pace | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                pace_type_0 = Pace(data)



                return pace_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Pace | Unset, data)

        pace = _parse_pace(d.pop("pace", UNSET))


        staged_request = cls(
            batch_size=batch_size,
            interval_seconds=interval_seconds,
            pace=pace,
        )

        return staged_request

