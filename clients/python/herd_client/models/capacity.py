from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="Capacity")



@_attrs_define
class Capacity:
    """ 
        Attributes:
            addresses_free (int):
            disk_free_bytes (int):
            disk_needed_bytes (int): Disk the clones need (DDR copies the whole image; FlashCopy almost nothing).
            fits (bool): Whether the batch fits in addresses and disk.
            from_pool (int):
            guests_needed (int):
            pool_available (int):
            to_clone (int):
     """

    addresses_free: int
    disk_free_bytes: int
    disk_needed_bytes: int
    fits: bool
    from_pool: int
    guests_needed: int
    pool_available: int
    to_clone: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        addresses_free = self.addresses_free

        disk_free_bytes = self.disk_free_bytes

        disk_needed_bytes = self.disk_needed_bytes

        fits = self.fits

        from_pool = self.from_pool

        guests_needed = self.guests_needed

        pool_available = self.pool_available

        to_clone = self.to_clone


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "addresses_free": addresses_free,
            "disk_free_bytes": disk_free_bytes,
            "disk_needed_bytes": disk_needed_bytes,
            "fits": fits,
            "from_pool": from_pool,
            "guests_needed": guests_needed,
            "pool_available": pool_available,
            "to_clone": to_clone,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        addresses_free = d.pop("addresses_free")

        disk_free_bytes = d.pop("disk_free_bytes")

        disk_needed_bytes = d.pop("disk_needed_bytes")

        fits = d.pop("fits")

        from_pool = d.pop("from_pool")

        guests_needed = d.pop("guests_needed")

        pool_available = d.pop("pool_available")

        to_clone = d.pop("to_clone")

        capacity = cls(
            addresses_free=addresses_free,
            disk_free_bytes=disk_free_bytes,
            disk_needed_bytes=disk_needed_bytes,
            fits=fits,
            from_pool=from_pool,
            guests_needed=guests_needed,
            pool_available=pool_available,
            to_clone=to_clone,
        )


        capacity.additional_properties = d
        return capacity

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
