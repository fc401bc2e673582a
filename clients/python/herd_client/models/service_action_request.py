from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="ServiceActionRequest")



@_attrs_define
class ServiceActionRequest:
    """ 
        Attributes:
            action (str): `start | stop | restart` Example: restart.
     """

    action: str





    def to_dict(self) -> dict[str, Any]:
        action = self.action


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "action": action,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        action = d.pop("action")

        service_action_request = cls(
            action=action,
        )

        return service_action_request

