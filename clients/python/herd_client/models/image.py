from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast
import datetime






T = TypeVar("T", bound="Image")



@_attrs_define
class Image:
    """ 
        Attributes:
            created_at (datetime.datetime):
            description (str):
            latest_version (int): The highest version published. Example: 2.
            name (str):  Example: golden.
            root_size_mb (float): One root version's size, shared by every guest that boots it. Example: 64.0.
            root_version (int): The root version new guests boot: 1 at first, then the version of
                the last rollout that succeeded. Example: 1.
            segment_size_mb (float): What each guest copies for itself (its writable segment). Example: 2.0.
            size_bytes (int): The root's size (as `root_size_mb`), in bytes.
     """

    created_at: datetime.datetime
    description: str
    latest_version: int
    name: str
    root_size_mb: float
    root_version: int
    segment_size_mb: float
    size_bytes: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        description = self.description

        latest_version = self.latest_version

        name = self.name

        root_size_mb = self.root_size_mb

        root_version = self.root_version

        segment_size_mb = self.segment_size_mb

        size_bytes = self.size_bytes


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "description": description,
            "latest_version": latest_version,
            "name": name,
            "root_size_mb": root_size_mb,
            "root_version": root_version,
            "segment_size_mb": segment_size_mb,
            "size_bytes": size_bytes,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        description = d.pop("description")

        latest_version = d.pop("latest_version")

        name = d.pop("name")

        root_size_mb = d.pop("root_size_mb")

        root_version = d.pop("root_version")

        segment_size_mb = d.pop("segment_size_mb")

        size_bytes = d.pop("size_bytes")

        image = cls(
            created_at=created_at,
            description=description,
            latest_version=latest_version,
            name=name,
            root_size_mb=root_size_mb,
            root_version=root_version,
            segment_size_mb=segment_size_mb,
            size_bytes=size_bytes,
        )


        image.additional_properties = d
        return image

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
