from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.guest_state import GuestState
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.ssh_host_key import SshHostKey





T = TypeVar("T", bound="Guest")



@_attrs_define
class Guest:
    """ 
        Attributes:
            auto_boot (bool):
            created_at (datetime.datetime):
            description (str):
            hostname (str):  Example: lx000042.herd.local.
            image (str):  Example: golden.
            lan (str):  Example: LNXLAN1.
            memory_mb (int):
            name (str):  Example: LX000042.
            state (GuestState): The life of a guest (SPEC §1). Stored as its lower-case name; the
                database's check constraint lists the same values.
            target_root_version (int): The root version its next IPL boots.
            assigned_at (datetime.datetime | None | Unset):
            expires_at (datetime.datetime | None | Unset):
            ip_address (None | str | Unset):  Example: 10.10.0.44.
            owner (None | str | Unset): `null` while pooled. Example: alice.
            reset_undo_until (datetime.datetime | None | Unset): Until when the segment from before its last reset is kept
                for `POST
                …/reset/undo`; `null` when nothing is kept.
            root_version (int | None | Unset): The root version it booted at its last IPL; `null` before the first.
            ssh_host_key (None | SshHostKey | Unset):
     """

    auto_boot: bool
    created_at: datetime.datetime
    description: str
    hostname: str
    image: str
    lan: str
    memory_mb: int
    name: str
    state: GuestState
    target_root_version: int
    assigned_at: datetime.datetime | None | Unset = UNSET
    expires_at: datetime.datetime | None | Unset = UNSET
    ip_address: None | str | Unset = UNSET
    owner: None | str | Unset = UNSET
    reset_undo_until: datetime.datetime | None | Unset = UNSET
    root_version: int | None | Unset = UNSET
    ssh_host_key: None | SshHostKey | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.ssh_host_key import SshHostKey # noqa: PLC0415
        auto_boot = self.auto_boot

        created_at = self.created_at.isoformat()

        description = self.description

        hostname = self.hostname

        image = self.image

        lan = self.lan

        memory_mb = self.memory_mb

        name = self.name

        state = self.state.value

        target_root_version = self.target_root_version

        assigned_at: None | str | Unset
        if isinstance(self.assigned_at, Unset):
            assigned_at = UNSET
        elif isinstance(self.assigned_at, datetime.datetime):
            assigned_at = self.assigned_at.isoformat()
        else:
            assigned_at = self.assigned_at

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        ip_address: None | str | Unset
        if isinstance(self.ip_address, Unset):
            ip_address = UNSET
        else:
            ip_address = self.ip_address

        owner: None | str | Unset
        if isinstance(self.owner, Unset):
            owner = UNSET
        else:
            owner = self.owner

        reset_undo_until: None | str | Unset
        if isinstance(self.reset_undo_until, Unset):
            reset_undo_until = UNSET
        elif isinstance(self.reset_undo_until, datetime.datetime):
            reset_undo_until = self.reset_undo_until.isoformat()
        else:
            reset_undo_until = self.reset_undo_until

        root_version: int | None | Unset
        if isinstance(self.root_version, Unset):
            root_version = UNSET
        else:
            root_version = self.root_version

        ssh_host_key: dict[str, Any] | None | Unset
        if isinstance(self.ssh_host_key, Unset):
            ssh_host_key = UNSET
        elif isinstance(self.ssh_host_key, SshHostKey):
            ssh_host_key = self.ssh_host_key.to_dict()
        else:
            ssh_host_key = self.ssh_host_key


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "auto_boot": auto_boot,
            "created_at": created_at,
            "description": description,
            "hostname": hostname,
            "image": image,
            "lan": lan,
            "memory_mb": memory_mb,
            "name": name,
            "state": state,
            "target_root_version": target_root_version,
        })
        if assigned_at is not UNSET:
            field_dict["assigned_at"] = assigned_at
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if ip_address is not UNSET:
            field_dict["ip_address"] = ip_address
        if owner is not UNSET:
            field_dict["owner"] = owner
        if reset_undo_until is not UNSET:
            field_dict["reset_undo_until"] = reset_undo_until
        if root_version is not UNSET:
            field_dict["root_version"] = root_version
        if ssh_host_key is not UNSET:
            field_dict["ssh_host_key"] = ssh_host_key

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.ssh_host_key import SshHostKey # noqa: PLC0415
        d = dict(src_dict)
        auto_boot = d.pop("auto_boot")

        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        description = d.pop("description")

        hostname = d.pop("hostname")

        image = d.pop("image")

        lan = d.pop("lan")

        memory_mb = d.pop("memory_mb")

        name = d.pop("name")

        state = GuestState(d.pop("state"))




        target_root_version = d.pop("target_root_version")

        def _parse_assigned_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                assigned_at_type_0 = datetime.datetime.fromisoformat(data)



                return assigned_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        assigned_at = _parse_assigned_at(d.pop("assigned_at", UNSET))


        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)



                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))


        def _parse_ip_address(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ip_address = _parse_ip_address(d.pop("ip_address", UNSET))


        def _parse_owner(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        owner = _parse_owner(d.pop("owner", UNSET))


        def _parse_reset_undo_until(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                reset_undo_until_type_0 = datetime.datetime.fromisoformat(data)



                return reset_undo_until_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        reset_undo_until = _parse_reset_undo_until(d.pop("reset_undo_until", UNSET))


        def _parse_root_version(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        root_version = _parse_root_version(d.pop("root_version", UNSET))


        def _parse_ssh_host_key(data: object) -> None | SshHostKey | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                ssh_host_key_type_0 = SshHostKey.from_dict(data)



                return ssh_host_key_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | SshHostKey | Unset, data)

        ssh_host_key = _parse_ssh_host_key(d.pop("ssh_host_key", UNSET))


        guest = cls(
            auto_boot=auto_boot,
            created_at=created_at,
            description=description,
            hostname=hostname,
            image=image,
            lan=lan,
            memory_mb=memory_mb,
            name=name,
            state=state,
            target_root_version=target_root_version,
            assigned_at=assigned_at,
            expires_at=expires_at,
            ip_address=ip_address,
            owner=owner,
            reset_undo_until=reset_undo_until,
            root_version=root_version,
            ssh_host_key=ssh_host_key,
        )


        guest.additional_properties = d
        return guest

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
