from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.job_view import JobView
from ...models.problem import Problem
from ...models.reset_request import ResetRequest
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    name: str,
    *,
    body: ResetRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/guests/{name}/reset".format(name=quote(str(name), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> JobView | Problem | None:
    if response.status_code == 202:
        response_202 = JobView.from_dict(response.json())



        return response_202

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())



        return response_403

    if response.status_code == 404:
        response_404 = Problem.from_dict(response.json())



        return response_404

    if response.status_code == 409:
        response_409 = Problem.from_dict(response.json())



        return response_409

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[JobView | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: ResetRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[JobView | Problem]:
    """ Reset a guest to known good

     Halts the guest (FORCE when the HALT times out), puts a fresh copy of its
    image's segment in place of its own and boots it on its target root when it
    was running or is `auto_boot`. Its name, owner, address, LAN grant, tags,
    open leases, service enablement and SSH host key stay (a new key only with
    `new_host_key`). The old segment is kept until `reset_undo_until` for `POST
    …/reset/undo`. The owner or an admin. Send an `Idempotency-Key` to make
    retries safe.

    Args:
        name (str):
        idempotency_key (None | str | Unset):
        body (ResetRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobView | Problem]
     """


    kwargs = _get_kwargs(
        name=name,
body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    body: ResetRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> JobView | Problem | None:
    """ Reset a guest to known good

     Halts the guest (FORCE when the HALT times out), puts a fresh copy of its
    image's segment in place of its own and boots it on its target root when it
    was running or is `auto_boot`. Its name, owner, address, LAN grant, tags,
    open leases, service enablement and SSH host key stay (a new key only with
    `new_host_key`). The old segment is kept until `reset_undo_until` for `POST
    …/reset/undo`. The owner or an admin. Send an `Idempotency-Key` to make
    retries safe.

    Args:
        name (str):
        idempotency_key (None | str | Unset):
        body (ResetRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobView | Problem
     """


    return sync_detailed(
        name=name,
client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: ResetRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[JobView | Problem]:
    """ Reset a guest to known good

     Halts the guest (FORCE when the HALT times out), puts a fresh copy of its
    image's segment in place of its own and boots it on its target root when it
    was running or is `auto_boot`. Its name, owner, address, LAN grant, tags,
    open leases, service enablement and SSH host key stay (a new key only with
    `new_host_key`). The old segment is kept until `reset_undo_until` for `POST
    …/reset/undo`. The owner or an admin. Send an `Idempotency-Key` to make
    retries safe.

    Args:
        name (str):
        idempotency_key (None | str | Unset):
        body (ResetRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[JobView | Problem]
     """


    kwargs = _get_kwargs(
        name=name,
body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: ResetRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> JobView | Problem | None:
    """ Reset a guest to known good

     Halts the guest (FORCE when the HALT times out), puts a fresh copy of its
    image's segment in place of its own and boots it on its target root when it
    was running or is `auto_boot`. Its name, owner, address, LAN grant, tags,
    open leases, service enablement and SSH host key stay (a new key only with
    `new_host_key`). The old segment is kept until `reset_undo_until` for `POST
    …/reset/undo`. The owner or an admin. Send an `Idempotency-Key` to make
    retries safe.

    Args:
        name (str):
        idempotency_key (None | str | Unset):
        body (ResetRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        JobView | Problem
     """


    return (await asyncio_detailed(
        name=name,
client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
