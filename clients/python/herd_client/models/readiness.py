from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.failing_task import FailingTask





T = TypeVar("T", bound="Readiness")



@_attrs_define
class Readiness:
    """ 
        Attributes:
            failing_tasks (list[FailingTask]): Background tasks (of any process) whose latest run failed; they do
                not make the server unready.
            status (str):  Example: ready.
     """

    failing_tasks: list[FailingTask]
    status: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.failing_task import FailingTask # noqa: PLC0415
        failing_tasks = []
        for failing_tasks_item_data in self.failing_tasks:
            failing_tasks_item = failing_tasks_item_data.to_dict()
            failing_tasks.append(failing_tasks_item)



        status = self.status


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "failing_tasks": failing_tasks,
            "status": status,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.failing_task import FailingTask # noqa: PLC0415
        d = dict(src_dict)
        failing_tasks = []
        _failing_tasks = d.pop("failing_tasks")
        for failing_tasks_item_data in (_failing_tasks):
            failing_tasks_item = FailingTask.from_dict(failing_tasks_item_data)



            failing_tasks.append(failing_tasks_item)


        status = d.pop("status")

        readiness = cls(
            failing_tasks=failing_tasks,
            status=status,
        )


        readiness.additional_properties = d
        return readiness

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
