from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.service_state import ServiceState






T = TypeVar("T", bound="GuestService")



@_attrs_define
class GuestService:
    """ 
        Attributes:
            enabled (bool): Started at boot.
            name (str):  Example: apache.
            priority (int):
            state (ServiceState): A guest's service as last observed: `unknown` until the guest has said.
     """

    enabled: bool
    name: str
    priority: int
    state: ServiceState
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        enabled = self.enabled

        name = self.name

        priority = self.priority

        state = self.state.value


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "enabled": enabled,
            "name": name,
            "priority": priority,
            "state": state,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        enabled = d.pop("enabled")

        name = d.pop("name")

        priority = d.pop("priority")

        state = ServiceState(d.pop("state"))




        guest_service = cls(
            enabled=enabled,
            name=name,
            priority=priority,
            state=state,
        )


        guest_service.additional_properties = d
        return guest_service

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
