from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.service_action import ServiceAction






T = TypeVar("T", bound="ServiceActionRequest")



@_attrs_define
class ServiceActionRequest:
    """ 
        Attributes:
            action (ServiceAction): What may be done to a guest's service: `start | stop | restart` in the
                API, `START | STOP | RESTART` in command text and on the console.
     """

    action: ServiceAction





    def to_dict(self) -> dict[str, Any]:
        action = self.action.value


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "action": action,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        action = ServiceAction(d.pop("action"))




        service_action_request = cls(
            action=action,
        )

        return service_action_request

