from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.event_kind import EventKind
from ...models.page_event_view import PageEventView
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    guest: str | Unset = UNSET,
    kind: EventKind | Unset = UNSET,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,

) -> dict[str, Any]:
    

    

    params: dict[str, Any] = {}

    params["guest"] = guest

    json_kind: str | Unset = UNSET
    if not isinstance(kind, Unset):
        json_kind = kind.value

    params["kind"] = json_kind

    params["limit"] = limit

    params["cursor"] = cursor


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/events",
        "params": params,
    }


    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> PageEventView | Problem | None:
    if response.status_code == 200:
        response_200 = PageEventView.from_dict(response.json())



        return response_200

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())



        return response_404

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[PageEventView | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    guest: str | Unset = UNSET,
    kind: EventKind | Unset = UNSET,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,

) -> Response[PageEventView | Problem]:
    """ Monitor, lifecycle and audit events

     Newest first. Admins see all; other users see the events of their own
    guests. `GET /api/v1/events/stream` delivers the same events as they
    happen.

    Args:
        guest (str | Unset):
        kind (EventKind | Unset): What recorded an event: `audit` for changes made through the
            API, the
            background work that watches and heals guests for the others.
        limit (int | Unset):  Default: 100.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageEventView | Problem]
     """


    kwargs = _get_kwargs(
        guest=guest,
kind=kind,
limit=limit,
cursor=cursor,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    guest: str | Unset = UNSET,
    kind: EventKind | Unset = UNSET,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,

) -> PageEventView | Problem | None:
    """ Monitor, lifecycle and audit events

     Newest first. Admins see all; other users see the events of their own
    guests. `GET /api/v1/events/stream` delivers the same events as they
    happen.

    Args:
        guest (str | Unset):
        kind (EventKind | Unset): What recorded an event: `audit` for changes made through the
            API, the
            background work that watches and heals guests for the others.
        limit (int | Unset):  Default: 100.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageEventView | Problem
     """


    return sync_detailed(
        client=client,
guest=guest,
kind=kind,
limit=limit,
cursor=cursor,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    guest: str | Unset = UNSET,
    kind: EventKind | Unset = UNSET,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,

) -> Response[PageEventView | Problem]:
    """ Monitor, lifecycle and audit events

     Newest first. Admins see all; other users see the events of their own
    guests. `GET /api/v1/events/stream` delivers the same events as they
    happen.

    Args:
        guest (str | Unset):
        kind (EventKind | Unset): What recorded an event: `audit` for changes made through the
            API, the
            background work that watches and heals guests for the others.
        limit (int | Unset):  Default: 100.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[PageEventView | Problem]
     """


    kwargs = _get_kwargs(
        guest=guest,
kind=kind,
limit=limit,
cursor=cursor,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    guest: str | Unset = UNSET,
    kind: EventKind | Unset = UNSET,
    limit: int | Unset = 100,
    cursor: str | Unset = UNSET,

) -> PageEventView | Problem | None:
    """ Monitor, lifecycle and audit events

     Newest first. Admins see all; other users see the events of their own
    guests. `GET /api/v1/events/stream` delivers the same events as they
    happen.

    Args:
        guest (str | Unset):
        kind (EventKind | Unset): What recorded an event: `audit` for changes made through the
            API, the
            background work that watches and heals guests for the others.
        limit (int | Unset):  Default: 100.
        cursor (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        PageEventView | Problem
     """


    return (await asyncio_detailed(
        client=client,
guest=guest,
kind=kind,
limit=limit,
cursor=cursor,

    )).parsed
