from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.pool_copy_method import PoolCopyMethod






T = TypeVar("T", bound="PoolView")



@_attrs_define
class PoolView:
    """ 
        Attributes:
            available (int): Guests ready to hand out.
            copy_method (PoolCopyMethod):
            provisioning (int): Guests being cloned for the pool.
            target_size (int):
     """

    available: int
    copy_method: PoolCopyMethod
    provisioning: int
    target_size: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        available = self.available

        copy_method = self.copy_method.value

        provisioning = self.provisioning

        target_size = self.target_size


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "available": available,
            "copy_method": copy_method,
            "provisioning": provisioning,
            "target_size": target_size,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        available = d.pop("available")

        copy_method = PoolCopyMethod(d.pop("copy_method"))




        provisioning = d.pop("provisioning")

        target_size = d.pop("target_size")

        pool_view = cls(
            available=available,
            copy_method=copy_method,
            provisioning=provisioning,
            target_size=target_size,
        )


        pool_view.additional_properties = d
        return pool_view

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
