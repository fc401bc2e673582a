from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, BinaryIO, TextIO, TYPE_CHECKING, Generator

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

from ..models.job_status import JobStatus
from ..types import UNSET, Unset
from typing import cast
import datetime

if TYPE_CHECKING:
  from ..models.batch_item_view import BatchItemView
  from ..models.batch_totals import BatchTotals
  from ..models.progress import Progress





T = TypeVar("T", bound="BatchView")



@_attrs_define
class BatchView:
    """ 
        Attributes:
            created_at (datetime.datetime):
            guests_per_user (int):
            id (int):
            items (list[BatchItemView]):
            job_id (int):
            progress (Progress):
            status (JobStatus): Where a job is (SPEC §7's `status`). Stored and sent as its lower-case
                name, the same text the API has always shown.
            totals (BatchTotals):
            ldap_group (None | str | Unset):
     """

    created_at: datetime.datetime
    guests_per_user: int
    id: int
    items: list[BatchItemView]
    job_id: int
    progress: Progress
    status: JobStatus
    totals: BatchTotals
    ldap_group: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)





    def to_dict(self) -> dict[str, Any]:
        from ..models.batch_item_view import BatchItemView # noqa: PLC0415
        from ..models.batch_totals import BatchTotals # noqa: PLC0415
        from ..models.progress import Progress # noqa: PLC0415
        created_at = self.created_at.isoformat()

        guests_per_user = self.guests_per_user

        id = self.id

        items = []
        for items_item_data in self.items:
            items_item = items_item_data.to_dict()
            items.append(items_item)



        job_id = self.job_id

        progress = self.progress.to_dict()

        status = self.status.value

        totals = self.totals.to_dict()

        ldap_group: None | str | Unset
        if isinstance(self.ldap_group, Unset):
            ldap_group = UNSET
        else:
            ldap_group = self.ldap_group


        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({
            "created_at": created_at,
            "guests_per_user": guests_per_user,
            "id": id,
            "items": items,
            "job_id": job_id,
            "progress": progress,
            "status": status,
            "totals": totals,
        })
        if ldap_group is not UNSET:
            field_dict["ldap_group"] = ldap_group

        return field_dict



    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.batch_item_view import BatchItemView # noqa: PLC0415
        from ..models.batch_totals import BatchTotals # noqa: PLC0415
        from ..models.progress import Progress # noqa: PLC0415
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))




        guests_per_user = d.pop("guests_per_user")

        id = d.pop("id")

        items = []
        _items = d.pop("items")
        for items_item_data in (_items):
            items_item = BatchItemView.from_dict(items_item_data)



            items.append(items_item)


        job_id = d.pop("job_id")

        progress = Progress.from_dict(d.pop("progress"))




        status = JobStatus(d.pop("status"))




        totals = BatchTotals.from_dict(d.pop("totals"))




        def _parse_ldap_group(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        ldap_group = _parse_ldap_group(d.pop("ldap_group", UNSET))


        batch_view = cls(
            created_at=created_at,
            guests_per_user=guests_per_user,
            id=id,
            items=items,
            job_id=job_id,
            progress=progress,
            status=status,
            totals=totals,
            ldap_group=ldap_group,
        )


        batch_view.additional_properties = d
        return batch_view

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
