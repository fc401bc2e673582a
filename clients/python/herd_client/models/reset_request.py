from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..types import UNSET, Unset






T = TypeVar("T", bound="ResetRequest")



@_attrs_define
class ResetRequest:
    """ 
        Attributes:
            confirm (str): The guest's name, typed as confirmation. Example: LX000042.
            new_host_key (bool | Unset): Make a new SSH host key at the next boot instead of keeping the
                guest's (default `false`).
     """

    confirm: str
    new_host_key: bool | Unset = UNSET





    def to_dict(self) -> dict[str, Any]:
        confirm = self.confirm

        new_host_key = self.new_host_key


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "confirm": confirm,
        })
        if new_host_key is not UNSET:
            field_dict["new_host_key"] = new_host_key

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        confirm = d.pop("confirm")

        new_host_key = d.pop("new_host_key", UNSET)

        reset_request = cls(
            confirm=confirm,
            new_host_key=new_host_key,
        )

        return reset_request

