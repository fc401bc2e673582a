from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="TaskView")



@_attrs_define
class TaskView:
    """ One background task of one process, as last reported by that process
    (about every second while it runs).

        Attributes:
            failing (bool): The latest activation failed.
            failures (int):
            name (str):  Example: pool_keeper.
            process (str): The process: host, process id and what it runs. Example: herd1/4711/server.
            reported_at (datetime.datetime): When the process last reported: long ago means it stopped.
            runs (int): Activations so far, failed ones included.
            last_error (None | str | Unset): Why the last failed run failed (kept after later successes).
            last_error_at (datetime.datetime | None | Unset):
            last_started_at (datetime.datetime | None | Unset):
            last_succeeded_at (datetime.datetime | None | Unset):
     """

    failing: bool
    failures: int
    name: str
    process: str
    reported_at: datetime.datetime
    runs: int
    last_error: None | str | Unset = UNSET
    last_error_at: datetime.datetime | None | Unset = UNSET
    last_started_at: datetime.datetime | None | Unset = UNSET
    last_succeeded_at: datetime.datetime | None | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        failing = self.failing

        failures = self.failures

        name = self.name

        process = self.process

        reported_at = self.reported_at.isoformat()

        runs = self.runs

        last_error: None | str | Unset
        if isinstance(self.last_error, Unset):
            last_error = UNSET
        else:
            last_error = self.last_error

        last_error_at: None | str | Unset
        if isinstance(self.last_error_at, Unset):
            last_error_at = UNSET
        elif isinstance(self.last_error_at, datetime.datetime):
            last_error_at = self.last_error_at.isoformat()
        else:
            last_error_at = self.last_error_at

        last_started_at: None | str | Unset
        if isinstance(self.last_started_at, Unset):
            last_started_at = UNSET
        elif isinstance(self.last_started_at, datetime.datetime):
            last_started_at = self.last_started_at.isoformat()
        else:
            last_started_at = self.last_started_at

        last_succeeded_at: None | str | Unset
        if isinstance(self.last_succeeded_at, Unset):
            last_succeeded_at = UNSET
        elif isinstance(self.last_succeeded_at, datetime.datetime):
            last_succeeded_at = self.last_succeeded_at.isoformat()
        else:
            last_succeeded_at = self.last_succeeded_at


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "failing": failing,
            "failures": failures,
            "name": name,
            "process": process,
            "reported_at": reported_at,
            "runs": runs,
        })
        if last_error is not UNSET:
            field_dict["last_error"] = last_error
        if last_error_at is not UNSET:
            field_dict["last_error_at"] = last_error_at
        if last_started_at is not UNSET:
            field_dict["last_started_at"] = last_started_at
        if last_succeeded_at is not UNSET:
            field_dict["last_succeeded_at"] = last_succeeded_at

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        failing = d.pop("failing")

        failures = d.pop("failures")

        name = d.pop("name")

        process = d.pop("process")

        reported_at = datetime.datetime.fromisoformat(d.pop("reported_at"))




        runs = d.pop("runs")

        def _parse_last_error(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        last_error = _parse_last_error(d.pop("last_error", UNSET))


        def _parse_last_error_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_error_at_type_0 = datetime.datetime.fromisoformat(data)



                return last_error_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_error_at = _parse_last_error_at(d.pop("last_error_at", UNSET))


        def _parse_last_started_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_started_at_type_0 = datetime.datetime.fromisoformat(data)



                return last_started_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_started_at = _parse_last_started_at(d.pop("last_started_at", UNSET))


        def _parse_last_succeeded_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                last_succeeded_at_type_0 = datetime.datetime.fromisoformat(data)



                return last_succeeded_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        last_succeeded_at = _parse_last_succeeded_at(d.pop("last_succeeded_at", UNSET))


        task_view = cls(
            failing=failing,
            failures=failures,
            name=name,
            process=process,
            reported_at=reported_at,
            runs=runs,
            last_error=last_error,
            last_error_at=last_error_at,
            last_started_at=last_started_at,
            last_succeeded_at=last_succeeded_at,
        )


        task_view.additional_properties = d
        return task_view

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
