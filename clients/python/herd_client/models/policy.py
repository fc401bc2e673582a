from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from typing import cast

if TYPE_CHECKING:
  from ..models.port_range_view import PortRangeView





T = TypeVar("T", bound="Policy")



@_attrs_define
class Policy:
    """ What may be opened, and for how long.

        Attributes:
            default_minutes (int): Duration of a lease when none is asked. Example: 90.
            max_minutes (int): Longest lease; renewals are shortened to it. Example: 480.
            max_open_per_guest (int): Open ports per guest at a time. Example: 5.
            tcp (list[PortRangeView]): tcp ports that may be opened (inclusive ranges).
            udp (list[PortRangeView]): udp ports that may be opened (inclusive ranges).
     """

    default_minutes: int
    max_minutes: int
    max_open_per_guest: int
    tcp: list[PortRangeView]
    udp: list[PortRangeView]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.port_range_view import PortRangeView # noqa: PLC0415
        default_minutes = self.default_minutes

        max_minutes = self.max_minutes

        max_open_per_guest = self.max_open_per_guest

        tcp = []
        for tcp_item_data in self.tcp:
            tcp_item = tcp_item_data.to_dict()
            tcp.append(tcp_item)



        udp = []
        for udp_item_data in self.udp:
            udp_item = udp_item_data.to_dict()
            udp.append(udp_item)




        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "default_minutes": default_minutes,
            "max_minutes": max_minutes,
            "max_open_per_guest": max_open_per_guest,
            "tcp": tcp,
            "udp": udp,
        })

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.port_range_view import PortRangeView # noqa: PLC0415
        d = dict(src_dict)
        default_minutes = d.pop("default_minutes")

        max_minutes = d.pop("max_minutes")

        max_open_per_guest = d.pop("max_open_per_guest")

        tcp = []
        _tcp = d.pop("tcp")
        for tcp_item_data in (_tcp):
            tcp_item = PortRangeView.from_dict(tcp_item_data)



            tcp.append(tcp_item)


        udp = []
        _udp = d.pop("udp")
        for udp_item_data in (_udp):
            udp_item = PortRangeView.from_dict(udp_item_data)



            udp.append(udp_item)


        policy = cls(
            default_minutes=default_minutes,
            max_minutes=max_minutes,
            max_open_per_guest=max_open_per_guest,
            tcp=tcp,
            udp=udp,
        )


        policy.additional_properties = d
        return policy

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
