from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="PageCatalogServiceItemsItem")



@_attrs_define
class PageCatalogServiceItemsItem:
    """ 
        Attributes:
            command (str): The init script the guest runs. Example: /etc/rc.d/init.d/httpd.
            default_enabled (bool): Whether a new guest starts it at boot.
            name (str):  Example: apache.
            priority (int): Services start in ascending priority at boot. Example: 50.
     """

    command: str
    default_enabled: bool
    name: str
    priority: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        command = self.command

        default_enabled = self.default_enabled

        name = self.name

        priority = self.priority


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "command": command,
            "default_enabled": default_enabled,
            "name": name,
            "priority": priority,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        command = d.pop("command")

        default_enabled = d.pop("default_enabled")

        name = d.pop("name")

        priority = d.pop("priority")

        page_catalog_service_items_item = cls(
            command=command,
            default_enabled=default_enabled,
            name=name,
            priority=priority,
        )


        page_catalog_service_items_item.additional_properties = d
        return page_catalog_service_items_item

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
