from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="PublishRequest")



@_attrs_define
class PublishRequest:
    """ 
        Attributes:
            label (str): What the version brings, e.g. the patches in it. Example: openssl 3.0.15.
     """

    label: str





    def to_dict(self) -> dict[str, Any]:
        label = self.label


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "label": label,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        label = d.pop("label")

        publish_request = cls(
            label=label,
        )

        return publish_request

