from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.protocol import Protocol
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="Lease")



@_attrs_define
class Lease:
    """ 
        Attributes:
            created_at (datetime.datetime):
            expires_at (datetime.datetime): When the port closes (RFC 3339 UTC).
            guest (str):  Example: LX000042.
            id (int):
            port (int):  Example: 8080.
            protocol (Protocol): The transport protocol of a firewall opening.
            remaining_seconds (int): Seconds until `expires_at` by the server's clock, rounded up. Example: 5400.
            opened_by (None | str | Unset): Who opened it. Example: alice.
            source_cidr (None | str | Unset): Who may connect; `null` is anyone. Example: 192.0.2.0/24.
     """

    created_at: datetime.datetime
    expires_at: datetime.datetime
    guest: str
    id: int
    port: int
    protocol: Protocol
    remaining_seconds: int
    opened_by: None | str | Unset = UNSET
    source_cidr: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        expires_at = self.expires_at.isoformat()

        guest = self.guest

        id = self.id

        port = self.port

        protocol = self.protocol.value

        remaining_seconds = self.remaining_seconds

        opened_by: None | str | Unset
        if isinstance(self.opened_by, Unset):
            opened_by = UNSET
        else:
            opened_by = self.opened_by

        source_cidr: None | str | Unset
        if isinstance(self.source_cidr, Unset):
            source_cidr = UNSET
        else:
            source_cidr = self.source_cidr


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "expires_at": expires_at,
            "guest": guest,
            "id": id,
            "port": port,
            "protocol": protocol,
            "remaining_seconds": remaining_seconds,
        })
        if opened_by is not UNSET:
            field_dict["opened_by"] = opened_by
        if source_cidr is not UNSET:
            field_dict["source_cidr"] = source_cidr

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        expires_at = datetime.datetime.fromisoformat(d.pop("expires_at"))




        guest = d.pop("guest")

        id = d.pop("id")

        port = d.pop("port")

        protocol = Protocol(d.pop("protocol"))




        remaining_seconds = d.pop("remaining_seconds")

        def _parse_opened_by(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        opened_by = _parse_opened_by(d.pop("opened_by", UNSET))


        def _parse_source_cidr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        source_cidr = _parse_source_cidr(d.pop("source_cidr", UNSET))


        lease = cls(
            created_at=created_at,
            expires_at=expires_at,
            guest=guest,
            id=id,
            port=port,
            protocol=protocol,
            remaining_seconds=remaining_seconds,
            opened_by=opened_by,
            source_cidr=source_cidr,
        )


        lease.additional_properties = d
        return lease

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
