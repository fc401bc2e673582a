from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.pace import Pace
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="RolloutRequest")



@_attrs_define
class RolloutRequest:
    """ 
        Attributes:
            version (int): The root version to bring the image's guests to. Example: 2.
            batch_size (int | None | Unset): Most guests restarting at once (default 15). Default: 15.
            health_timeout_seconds (int | None | Unset): How long a restarted guest has to run with every enabled service up
                (default 300). Default: 300.
            interval_seconds (int | None | Unset): Seconds between batches (default 30); `fixed` pace only. Default: 30.
            min_healthy_percent (int | None | Unset): Share of the guests running at the start that stays running and
                healthy (default 90); also sets the rollback budget. Default: 90.
            pace (None | Pace | Unset):
     """

    version: int
    batch_size: int | None | Unset = 15
    health_timeout_seconds: int | None | Unset = 300
    interval_seconds: int | None | Unset = 30
    min_healthy_percent: int | None | Unset = 90
    pace: None | Pace | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        version = self.version

        batch_size: int | None | Unset
        if isinstance(self.batch_size, Unset):
            batch_size = UNSET
        else:
            batch_size = self.batch_size

        health_timeout_seconds: int | None | Unset
        if isinstance(self.health_timeout_seconds, Unset):
            health_timeout_seconds = UNSET
        else:
            health_timeout_seconds = self.health_timeout_seconds

        interval_seconds: int | None | Unset
        if isinstance(self.interval_seconds, Unset):
            interval_seconds = UNSET
        else:
            interval_seconds = self.interval_seconds

        min_healthy_percent: int | None | Unset
        if isinstance(self.min_healthy_percent, Unset):
            min_healthy_percent = UNSET
        else:
            min_healthy_percent = self.min_healthy_percent

        pace: None | str | Unset
        if isinstance(self.pace, Unset):
            pace = UNSET
        elif isinstance(self.pace, Pace):
            pace = self.pace.value
        else:
            pace = self.pace


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "version": version,
        })
        if batch_size is not UNSET:
            field_dict["batch_size"] = batch_size
        if health_timeout_seconds is not UNSET:
            field_dict["health_timeout_seconds"] = health_timeout_seconds
        if interval_seconds is not UNSET:
            field_dict["interval_seconds"] = interval_seconds
        if min_healthy_percent is not UNSET:
            field_dict["min_healthy_percent"] = min_healthy_percent
        if pace is not UNSET:
            field_dict["pace"] = pace

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        version = d.pop("version")

        def _parse_batch_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        batch_size = _parse_batch_size(d.pop("batch_size", UNSET))


        def _parse_health_timeout_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        health_timeout_seconds = _parse_health_timeout_seconds(d.pop("health_timeout_seconds", UNSET))


        def _parse_interval_seconds(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        interval_seconds = _parse_interval_seconds(d.pop("interval_seconds", UNSET))


        def _parse_min_healthy_percent(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        min_healthy_percent = _parse_min_healthy_percent(d.pop("min_healthy_percent", UNSET))


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


        rollout_request = cls(
            version=version,
            batch_size=batch_size,
            health_timeout_seconds=health_timeout_seconds,
            interval_seconds=interval_seconds,
            min_healthy_percent=min_healthy_percent,
            pace=pace,
        )

        return rollout_request

