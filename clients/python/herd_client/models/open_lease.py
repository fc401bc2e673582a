from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.protocol import Protocol
from ..types import UNSET, Unset
from typing import cast






T = TypeVar("T", bound="OpenLease")



@_attrs_define
class OpenLease:
    """ 
        Attributes:
            port (int): Within the policy's ranges for the protocol. Example: 8080.
            protocol (Protocol): The transport protocol of a firewall opening.
            duration_minutes (int | None | Unset): Default: the policy's `default_minutes`; at most `max_minutes`. Example:
                90.
            source_cidr (None | str | Unset): IPv4 network (or single address) allowed to connect; default: anyone. Example:
                192.0.2.0/24.
     """

    port: int
    protocol: Protocol
    duration_minutes: int | None | Unset = UNSET
    source_cidr: None | str | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        port = self.port

        protocol = self.protocol.value

        duration_minutes: int | None | Unset
        if isinstance(self.duration_minutes, Unset):
            duration_minutes = UNSET
        else:
            duration_minutes = self.duration_minutes

        source_cidr: None | str | Unset
        if isinstance(self.source_cidr, Unset):
            source_cidr = UNSET
        else:
            source_cidr = self.source_cidr


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "port": port,
            "protocol": protocol,
        })
        if duration_minutes is not UNSET:
            field_dict["duration_minutes"] = duration_minutes
        if source_cidr is not UNSET:
            field_dict["source_cidr"] = source_cidr

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        port = d.pop("port")

        protocol = Protocol(d.pop("protocol"))




        def _parse_duration_minutes(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        duration_minutes = _parse_duration_minutes(d.pop("duration_minutes", UNSET))


        def _parse_source_cidr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        source_cidr = _parse_source_cidr(d.pop("source_cidr", UNSET))


        open_lease = cls(
            port=port,
            protocol=protocol,
            duration_minutes=duration_minutes,
            source_cidr=source_cidr,
        )

        return open_lease

