from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.pool_copy_method import PoolCopyMethod






T = TypeVar("T", bound="PoolUpdate")



@_attrs_define
class PoolUpdate:
    """ 
        Attributes:
            copy_method (PoolCopyMethod):
            target_size (int):
     """

    copy_method: PoolCopyMethod
    target_size: int





    def to_dict(self) -> dict[str, Any]:
        copy_method = self.copy_method.value

        target_size = self.target_size


        field_dict: dict[str, Any] = {}

        field_dict.update({
            "copy_method": copy_method,
            "target_size": target_size,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        copy_method = PoolCopyMethod(d.pop("copy_method"))




        target_size = d.pop("target_size")

        pool_update = cls(
            copy_method=copy_method,
            target_size=target_size,
        )

        return pool_update

