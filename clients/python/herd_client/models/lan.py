from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="Lan")



@_attrs_define
class Lan:
    """ 
        Attributes:
            capacity (int): Addresses available to guests.
            cidr (str):  Example: 10.10.0.0/22.
            dns (str):  Example: 10.10.0.1.
            gateway (str):  Example: 10.10.0.1.
            name (str):  Example: LNXLAN1.
            used (int): Addresses held by guests.
     """

    capacity: int
    cidr: str
    dns: str
    gateway: str
    name: str
    used: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        capacity = self.capacity

        cidr = self.cidr

        dns = self.dns

        gateway = self.gateway

        name = self.name

        used = self.used


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "capacity": capacity,
            "cidr": cidr,
            "dns": dns,
            "gateway": gateway,
            "name": name,
            "used": used,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        capacity = d.pop("capacity")

        cidr = d.pop("cidr")

        dns = d.pop("dns")

        gateway = d.pop("gateway")

        name = d.pop("name")

        used = d.pop("used")

        lan = cls(
            capacity=capacity,
            cidr=cidr,
            dns=dns,
            gateway=gateway,
            name=name,
            used=used,
        )


        lan.additional_properties = d
        return lan

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
