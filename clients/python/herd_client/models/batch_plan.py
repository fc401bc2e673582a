from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.capacity import Capacity
  from ..models.plan_item import PlanItem





T = TypeVar("T", bound="BatchPlan")



@_attrs_define
class BatchPlan:
    """ 
        Attributes:
            capacity (Capacity):
            dry_run (bool):
            skipped (int):
            users (list[PlanItem]):
     """

    capacity: Capacity
    dry_run: bool
    skipped: int
    users: list[PlanItem]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.capacity import Capacity # noqa: PLC0415
        from ..models.plan_item import PlanItem # noqa: PLC0415
        capacity = self.capacity.to_dict()

        dry_run = self.dry_run

        skipped = self.skipped

        users = []
        for users_item_data in self.users:
            users_item = users_item_data.to_dict()
            users.append(users_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "capacity": capacity,
            "dry_run": dry_run,
            "skipped": skipped,
            "users": users,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.capacity import Capacity # noqa: PLC0415
        from ..models.plan_item import PlanItem # noqa: PLC0415
        d = dict(src_dict)
        capacity = Capacity.from_dict(d.pop("capacity"))




        dry_run = d.pop("dry_run")

        skipped = d.pop("skipped")

        users = []
        _users = d.pop("users")
        for users_item_data in (_users):
            users_item = PlanItem.from_dict(users_item_data)



            users.append(users_item)


        batch_plan = cls(
            capacity=capacity,
            dry_run=dry_run,
            skipped=skipped,
            users=users,
        )


        batch_plan.additional_properties = d
        return batch_plan

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
