from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="BatchTotals")



@_attrs_define
class BatchTotals:
    """ 
        Attributes:
            assigned (int):
            cancelled (int):
            cloned (int):
            failed (int):
            guests (int): Guests handed out by this batch.
            pending (int):
            skipped (int):
            users (int):
     """

    assigned: int
    cancelled: int
    cloned: int
    failed: int
    guests: int
    pending: int
    skipped: int
    users: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        assigned = self.assigned

        cancelled = self.cancelled

        cloned = self.cloned

        failed = self.failed

        guests = self.guests

        pending = self.pending

        skipped = self.skipped

        users = self.users


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "assigned": assigned,
            "cancelled": cancelled,
            "cloned": cloned,
            "failed": failed,
            "guests": guests,
            "pending": pending,
            "skipped": skipped,
            "users": users,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        assigned = d.pop("assigned")

        cancelled = d.pop("cancelled")

        cloned = d.pop("cloned")

        failed = d.pop("failed")

        guests = d.pop("guests")

        pending = d.pop("pending")

        skipped = d.pop("skipped")

        users = d.pop("users")

        batch_totals = cls(
            assigned=assigned,
            cancelled=cancelled,
            cloned=cloned,
            failed=failed,
            guests=guests,
            pending=pending,
            skipped=skipped,
            users=users,
        )


        batch_totals.additional_properties = d
        return batch_totals

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
