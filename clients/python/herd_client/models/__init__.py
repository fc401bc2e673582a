""" Contains all the data models used in inputs/outputs """

from .batch_item_view import BatchItemView
from .batch_plan import BatchPlan
from .batch_request import BatchRequest
from .batch_totals import BatchTotals
from .batch_view import BatchView
from .capacity import Capacity
from .catalog_service import CatalogService
from .command_status import CommandStatus
from .command_view import CommandView
from .event_kind import EventKind
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
from .item_status import ItemStatus
from .job_kind import JobKind
from .job_status import JobStatus
from .job_view import JobView
from .job_view_result_type_0 import JobViewResultType0
from .lan import Lan
from .lease import Lease
from .me import Me
from .new_lan import NewLan
from .open_lease import OpenLease
from .openapi_document_response_200 import OpenapiDocumentResponse200
from .outcome import Outcome
from .pace import Pace
from .page_batch_view import PageBatchView
from .page_catalog_service import PageCatalogService
from .page_event_view import PageEventView
from .page_guest import PageGuest
from .page_guest_service import PageGuestService
from .page_image import PageImage
from .page_job_view import PageJobView
from .page_lan import PageLan
from .page_lease import PageLease
from .page_root_version import PageRootVersion
from .page_task_view import PageTaskView
from .page_token_view import PageTokenView
from .plan_item import PlanItem
from .policy import Policy
from .pool_copy_method import PoolCopyMethod
from .pool_update import PoolUpdate
from .pool_view import PoolView
from .port_range_view import PortRangeView
from .power_action import PowerAction
from .power_request import PowerRequest
from .problem import Problem
from .progress import Progress
from .protocol import Protocol
from .provisioning_started import ProvisioningStarted
from .publish_request import PublishRequest
from .quota import Quota
from .readiness import Readiness
from .reclaim_plan import ReclaimPlan
from .reclaim_request import ReclaimRequest
from .renew_lease import RenewLease
from .reset_request import ResetRequest
from .role import Role
from .rollout_request import RolloutRequest
from .root_state import RootState
from .root_version import RootVersion
from .service_action import ServiceAction
from .service_action_request import ServiceActionRequest
from .service_patch import ServicePatch
from .service_state import ServiceState
from .session import Session
from .session_request import SessionRequest
from .ssh_host_key import SshHostKey
from .staged_request import StagedRequest
from .stream_events_response_200 import StreamEventsResponse200
from .task_view import TaskView
from .token_request import TokenRequest
from .token_response import TokenResponse
from .token_view import TokenView

__all__ = (
    "BatchItemView",
    "BatchPlan",
    "BatchRequest",
    "BatchTotals",
    "BatchView",
    "Capacity",
    "CatalogService",
    "CommandStatus",
    "CommandView",
    "EventKind",
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
    "ItemStatus",
    "JobKind",
    "JobStatus",
    "JobView",
    "JobViewResultType0",
    "Lan",
    "Lease",
    "Me",
    "NewLan",
    "OpenapiDocumentResponse200",
    "OpenLease",
    "Outcome",
    "Pace",
    "PageBatchView",
    "PageCatalogService",
    "PageEventView",
    "PageGuest",
    "PageGuestService",
    "PageImage",
    "PageJobView",
    "PageLan",
    "PageLease",
    "PageRootVersion",
    "PageTaskView",
    "PageTokenView",
    "PlanItem",
    "Policy",
    "PoolCopyMethod",
    "PoolUpdate",
    "PoolView",
    "PortRangeView",
    "PowerAction",
    "PowerRequest",
    "Problem",
    "Progress",
    "Protocol",
    "ProvisioningStarted",
    "PublishRequest",
    "Quota",
    "Readiness",
    "ReclaimPlan",
    "ReclaimRequest",
    "RenewLease",
    "ResetRequest",
    "Role",
    "RolloutRequest",
    "RootState",
    "RootVersion",
    "ServiceAction",
    "ServiceActionRequest",
    "ServicePatch",
    "ServiceState",
    "Session",
    "SessionRequest",
    "SshHostKey",
    "StagedRequest",
    "StreamEventsResponse200",
    "TaskView",
    "TokenRequest",
    "TokenResponse",
    "TokenView",
)
