from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.event_kind import EventKind
from ...models.problem import Problem
from ...models.stream_events_response_200 import StreamEventsResponse200
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    guest: str | Unset = UNSET,
    kind: EventKind | Unset = UNSET,
    last_event_id: int | None | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(last_event_id, Unset):
        headers["Last-Event-ID"] = last_event_id



    

    params: dict[str, Any] = {}

    params["guest"] = guest

    json_kind: str | Unset = UNSET
    if not isinstance(kind, Unset):
        json_kind = kind.value

    params["kind"] = json_kind


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/events/stream",
        "params": params,
    }


    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | StreamEventsResponse200 | None:
    if response.status_code == 200:
        response_200 = StreamEventsResponse200.from_dict(response.text)



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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | StreamEventsResponse200]:
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
    last_event_id: int | None | Unset = UNSET,

) -> Response[Problem | StreamEventsResponse200]:
    """ Events as they happen (server-sent events)

     A `text/event-stream` of the events `GET /api/v1/events` would list to
    this caller, one message per event: `id:` its id, `data:` the event as
    JSON. A new stream starts with what happens from then on; a client that
    reconnects with `Last-Event-ID` first gets what it missed, in order,
    nothing twice. A comment line every 15 seconds keeps idle connections
    open.

    Args:
        guest (str | Unset):
        kind (EventKind | Unset): What recorded an event: `audit` for changes made through the
            API, the
            background work that watches and heals guests for the others.
        last_event_id (int | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StreamEventsResponse200]
     """


    kwargs = _get_kwargs(
        guest=guest,
kind=kind,
last_event_id=last_event_id,

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
    last_event_id: int | None | Unset = UNSET,

) -> Problem | StreamEventsResponse200 | None:
    """ Events as they happen (server-sent events)

     A `text/event-stream` of the events `GET /api/v1/events` would list to
    this caller, one message per event: `id:` its id, `data:` the event as
    JSON. A new stream starts with what happens from then on; a client that
    reconnects with `Last-Event-ID` first gets what it missed, in order,
    nothing twice. A comment line every 15 seconds keeps idle connections
    open.

    Args:
        guest (str | Unset):
        kind (EventKind | Unset): What recorded an event: `audit` for changes made through the
            API, the
            background work that watches and heals guests for the others.
        last_event_id (int | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StreamEventsResponse200
     """


    return sync_detailed(
        client=client,
guest=guest,
kind=kind,
last_event_id=last_event_id,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    guest: str | Unset = UNSET,
    kind: EventKind | Unset = UNSET,
    last_event_id: int | None | Unset = UNSET,

) -> Response[Problem | StreamEventsResponse200]:
    """ Events as they happen (server-sent events)

     A `text/event-stream` of the events `GET /api/v1/events` would list to
    this caller, one message per event: `id:` its id, `data:` the event as
    JSON. A new stream starts with what happens from then on; a client that
    reconnects with `Last-Event-ID` first gets what it missed, in order,
    nothing twice. A comment line every 15 seconds keeps idle connections
    open.

    Args:
        guest (str | Unset):
        kind (EventKind | Unset): What recorded an event: `audit` for changes made through the
            API, the
            background work that watches and heals guests for the others.
        last_event_id (int | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | StreamEventsResponse200]
     """


    kwargs = _get_kwargs(
        guest=guest,
kind=kind,
last_event_id=last_event_id,

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
    last_event_id: int | None | Unset = UNSET,

) -> Problem | StreamEventsResponse200 | None:
    """ Events as they happen (server-sent events)

     A `text/event-stream` of the events `GET /api/v1/events` would list to
    this caller, one message per event: `id:` its id, `data:` the event as
    JSON. A new stream starts with what happens from then on; a client that
    reconnects with `Last-Event-ID` first gets what it missed, in order,
    nothing twice. A comment line every 15 seconds keeps idle connections
    open.

    Args:
        guest (str | Unset):
        kind (EventKind | Unset): What recorded an event: `audit` for changes made through the
            API, the
            background work that watches and heals guests for the others.
        last_event_id (int | None | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | StreamEventsResponse200
     """


    return (await asyncio_detailed(
        client=client,
guest=guest,
kind=kind,
last_event_id=last_event_id,

    )).parsed
