from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset







T = TypeVar("T", bound="SshHostKey")



@_attrs_define
class SshHostKey:
    """ 
        Attributes:
            algorithm (str):  Example: ssh-ed25519.
            fingerprint (str): As `ssh-keygen -l -E sha256` prints it. Example:
                SHA256:Y6IS+1nGZdDaGUoVClmPZf/4oRpUcL1oA+qkm1f9sxE.
            public_key (str):  Example: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFY88lyLdfFA9fuCYflLEARFRJjsB5HW/KOwAWdL3Qvs.
     """

    algorithm: str
    fingerprint: str
    public_key: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        algorithm = self.algorithm

        fingerprint = self.fingerprint

        public_key = self.public_key


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "algorithm": algorithm,
            "fingerprint": fingerprint,
            "public_key": public_key,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        algorithm = d.pop("algorithm")

        fingerprint = d.pop("fingerprint")

        public_key = d.pop("public_key")

        ssh_host_key = cls(
            algorithm=algorithm,
            fingerprint=fingerprint,
            public_key=public_key,
        )


        ssh_host_key.additional_properties = d
        return ssh_host_key

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
