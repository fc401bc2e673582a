from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="NewLan")



@_attrs_define
class NewLan:
    """ 
        Attributes:
            cidr (str): An IPv4 network, /30 or wider, host bits clear. Example: 10.20.0.0/22.
            name (str): 1–8 letters, digits, `@`, `#` or `$`, as CP names LANs. Example: LNXLAN2.
            dns (None | str | Unset): The guests' DNS server; the gateway when left out. Example: 10.20.0.1.
            gateway (None | str | Unset): One of its host addresses; the first one when left out. Example: 10.20.0.1.
     """

    cidr: str
    name: str
    dns: None | str | Unset = UNSET
    gateway: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        cidr = self.cidr

        name = self.name

        dns: None | str | Unset
        if isinstance(self.dns, Unset):
            dns = UNSET
        else:
            dns = self.dns

        gateway: None | str | Unset
        if isinstance(self.gateway, Unset):
            gateway = UNSET
        else:
            gateway = self.gateway


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "cidr": cidr,
            "name": name,
        })
        if dns is not UNSET:
            field_dict["dns"] = dns
        if gateway is not UNSET:
            field_dict["gateway"] = gateway

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        cidr = d.pop("cidr")

        name = d.pop("name")

        def _parse_dns(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        dns = _parse_dns(d.pop("dns", UNSET))


        def _parse_gateway(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        gateway = _parse_gateway(d.pop("gateway", UNSET))


        new_lan = cls(
            cidr=cidr,
            name=name,
            dns=dns,
            gateway=gateway,
        )

        return new_lan

