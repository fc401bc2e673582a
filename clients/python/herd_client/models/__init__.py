""" Contains all the data models used in inputs/outputs """

from .batch_item_view import BatchItemView
from .batch_plan import BatchPlan
from .batch_request import BatchRequest
from .batch_totals import BatchTotals
from .batch_view import BatchView
from .capacity import Capacity
from .catalog_service import CatalogService
from .command_view import CommandView
from .event_view import EventView
from .failing_task import FailingTask
from .guest import Guest
from .guest_patch import GuestPatch
from .guest_request import GuestRequest
from .guest_service import GuestService
from .guest_state import GuestState
from .guest_tags_response_200 import GuestTagsResponse200
from .health import Health
from .image import Image
from .job_view import JobView
from .lan import Lan
from .lease import Lease
from .me import Me
from .open_lease import OpenLease
from .page_batch_view import PageBatchView
from .page_batch_view_items_item import PageBatchViewItemsItem
from .page_catalog_service import PageCatalogService
from .page_catalog_service_items_item import PageCatalogServiceItemsItem
from .page_event_view import PageEventView
from .page_event_view_items_item import PageEventViewItemsItem
from .page_guest import PageGuest
from .page_guest_items_item import PageGuestItemsItem
from .page_guest_service import PageGuestService
from .page_guest_service_items_item import PageGuestServiceItemsItem
from .page_image import PageImage
from .page_image_items_item import PageImageItemsItem
from .page_job_view import PageJobView
from .page_job_view_items_item import PageJobViewItemsItem
from .page_lan import PageLan
from .page_lan_items_item import PageLanItemsItem
from .page_lease import PageLease
from .page_lease_items_item import PageLeaseItemsItem
from .page_task_view import PageTaskView
from .page_task_view_items_item import PageTaskViewItemsItem
from .plan_item import PlanItem
from .policy import Policy
from .pool_copy_method import PoolCopyMethod
from .pool_update import PoolUpdate
from .pool_view import PoolView
from .port_range_view import PortRangeView
from .power_request import PowerRequest
from .problem import Problem
from .progress import Progress
from .protocol import Protocol
from .provisioning_started import ProvisioningStarted
from .quota import Quota
from .readiness import Readiness
from .reclaim_plan import ReclaimPlan
from .reclaim_request import ReclaimRequest
from .renew_lease import RenewLease
from .role import Role
from .service_action_request import ServiceActionRequest
from .service_patch import ServicePatch
from .staged_request import StagedRequest
from .task_view import TaskView
from .token_request import TokenRequest
from .token_response import TokenResponse

__all__ = (
    "BatchItemView",
    "BatchPlan",
    "BatchRequest",
    "BatchTotals",
    "BatchView",
    "Capacity",
    "CatalogService",
    "CommandView",
    "EventView",
    "FailingTask",
    "Guest",
    "GuestPatch",
    "GuestRequest",
    "GuestService",
    "GuestState",
    "GuestTagsResponse200",
    "Health",
    "Image",
    "JobView",
    "Lan",
    "Lease",
    "Me",
    "OpenLease",
    "PageBatchView",
    "PageBatchViewItemsItem",
    "PageCatalogService",
    "PageCatalogServiceItemsItem",
    "PageEventView",
    "PageEventViewItemsItem",
    "PageGuest",
    "PageGuestItemsItem",
    "PageGuestService",
    "PageGuestServiceItemsItem",
    "PageImage",
    "PageImageItemsItem",
    "PageJobView",
    "PageJobViewItemsItem",
    "PageLan",
    "PageLanItemsItem",
    "PageLease",
    "PageLeaseItemsItem",
    "PageTaskView",
    "PageTaskViewItemsItem",
    "PlanItem",
    "Policy",
    "PoolCopyMethod",
    "PoolUpdate",
    "PoolView",
    "PortRangeView",
    "PowerRequest",
    "Problem",
    "Progress",
    "Protocol",
    "ProvisioningStarted",
    "Quota",
    "Readiness",
    "ReclaimPlan",
    "ReclaimRequest",
    "RenewLease",
    "Role",
    "ServiceActionRequest",
    "ServicePatch",
    "StagedRequest",
    "TaskView",
    "TokenRequest",
    "TokenResponse",
)
