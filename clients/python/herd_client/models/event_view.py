from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.event_kind import EventKind
from ..models.outcome import Outcome
from ..types import UNSET, Unset
from typing import cast
import datetime






T = TypeVar("T", bound="EventView")



@_attrs_define
class EventView:
    """ 
        Attributes:
            action (str):  Example: guest.request.
            actor (str): Username, or `system`.
            at (datetime.datetime):
            id (int):
            kind (EventKind): What recorded an event: `audit` for changes made through the API, the
                background work that watches and heals guests for the others.
            outcome (Outcome):
            client_addr (None | str | Unset):
            detail (None | str | Unset):
            request_id (None | str | Unset): The id of the request that made an audited change (its answer's
                `x-request-id`); `null` for background work.
            target (None | str | Unset):
     """

    action: str
    actor: str
    at: datetime.datetime
    id: int
    kind: EventKind
    outcome: Outcome
    client_addr: None | str | Unset = UNSET
    detail: None | str | Unset = UNSET
    request_id: None | str | Unset = UNSET
    target: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        action = self.action

        actor = self.actor

        at = self.at.isoformat()

        id = self.id

        kind = self.kind.value

        outcome = self.outcome.value

        client_addr: None | str | Unset
        if isinstance(self.client_addr, Unset):
            client_addr = UNSET
        else:
            client_addr = self.client_addr

        detail: None | str | Unset
        if isinstance(self.detail, Unset):
            detail = UNSET
        else:
            detail = self.detail

        request_id: None | str | Unset
        if isinstance(self.request_id, Unset):
            request_id = UNSET
        else:
            request_id = self.request_id

        target: None | str | Unset
        if isinstance(self.target, Unset):
            target = UNSET
        else:
            target = self.target


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "action": action,
            "actor": actor,
            "at": at,
            "id": id,
            "kind": kind,
            "outcome": outcome,
        })
        if client_addr is not UNSET:
            field_dict["client_addr"] = client_addr
        if detail is not UNSET:
            field_dict["detail"] = detail
        if request_id is not UNSET:
            field_dict["request_id"] = request_id
        if target is not UNSET:
            field_dict["target"] = target

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        action = d.pop("action")

        actor = d.pop("actor")

        at = datetime.datetime.fromisoformat(d.pop("at"))




        id = d.pop("id")

        kind = EventKind(d.pop("kind"))




        outcome = Outcome(d.pop("outcome"))




        def _parse_client_addr(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        client_addr = _parse_client_addr(d.pop("client_addr", UNSET))


        def _parse_detail(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        detail = _parse_detail(d.pop("detail", UNSET))


        def _parse_request_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_id = _parse_request_id(d.pop("request_id", UNSET))


        def _parse_target(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        target = _parse_target(d.pop("target", UNSET))


        event_view = cls(
            action=action,
            actor=actor,
            at=at,
            id=id,
            kind=kind,
            outcome=outcome,
            client_addr=client_addr,
            detail=detail,
            request_id=request_id,
            target=target,
        )


        event_view.additional_properties = d
        return event_view

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
