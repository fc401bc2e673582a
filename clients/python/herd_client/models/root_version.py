from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.root_state import RootState
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="RootVersion")



@_attrs_define
class RootVersion:
    """ 
        Attributes:
            created_at (datetime.datetime):
            guests (int): Guests (not decommissioned) whose `root_version` or
                `target_root_version` it is.
            label (str):  Example: openssl 3.0.15.
            state (RootState): A root version's life: `published` once its disk is made (guests may
                boot it), `retired` once its disk is freed.
            version (int):  Example: 2.
            checksum (None | str | Unset): BLAKE3 of the root's bytes (hex); `null` until the provisioner has
                made the disk.
     """

    created_at: datetime.datetime
    guests: int
    label: str
    state: RootState
    version: int
    checksum: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        guests = self.guests

        label = self.label

        state = self.state.value

        version = self.version

        checksum: None | str | Unset
        if isinstance(self.checksum, Unset):
            checksum = UNSET
        else:
            checksum = self.checksum


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "guests": guests,
            "label": label,
            "state": state,
            "version": version,
        })
        if checksum is not UNSET:
            field_dict["checksum"] = checksum

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        guests = d.pop("guests")

        label = d.pop("label")

        state = RootState(d.pop("state"))




        version = d.pop("version")

        def _parse_checksum(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        checksum = _parse_checksum(d.pop("checksum", UNSET))


        root_version = cls(
            created_at=created_at,
            guests=guests,
            label=label,
            state=state,
            version=version,
            checksum=checksum,
        )


        root_version.additional_properties = d
        return root_version

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
