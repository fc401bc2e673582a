from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.command_view import CommandView
from ...models.power_request import PowerRequest
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    name: str,
    *,
    body: PowerRequest,
    wait: int | Unset = 0,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    params: dict[str, Any] = {}

    params["wait"] = wait


    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}


    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/guests/{name}/power".format(name=quote(str(name), safe=""),),
        "params": params,
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> CommandView | Problem | None:
    if response.status_code == 202:
        response_202 = CommandView.from_dict(response.json())



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

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[CommandView | Problem]:
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
    body: PowerRequest,
    wait: int | Unset = 0,

) -> Response[CommandView | Problem]:
    """ Power a guest on or off

     Through the command channel: `start` (IPL), `stop` (graceful HALT),
    `restart` (HALT, then IPL), `force_off` (FORCE). The owner, staff or an
    admin.

    Args:
        name (str):
        wait (int | Unset):  Default: 0.
        body (PowerRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CommandView | Problem]
     """


    kwargs = _get_kwargs(
        name=name,
body=body,
wait=wait,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    name: str,
    *,
    client: AuthenticatedClient,
    body: PowerRequest,
    wait: int | Unset = 0,

) -> CommandView | Problem | None:
    """ Power a guest on or off

     Through the command channel: `start` (IPL), `stop` (graceful HALT),
    `restart` (HALT, then IPL), `force_off` (FORCE). The owner, staff or an
    admin.

    Args:
        name (str):
        wait (int | Unset):  Default: 0.
        body (PowerRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CommandView | Problem
     """


    return sync_detailed(
        name=name,
client=client,
body=body,
wait=wait,

    ).parsed

async def asyncio_detailed(
    name: str,
    *,
    client: AuthenticatedClient,
    body: PowerRequest,
    wait: int | Unset = 0,

) -> Response[CommandView | Problem]:
    """ Power a guest on or off

     Through the command channel: `start` (IPL), `stop` (graceful HALT),
    `restart` (HALT, then IPL), `force_off` (FORCE). The owner, staff or an
    admin.

    Args:
        name (str):
        wait (int | Unset):  Default: 0.
        body (PowerRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[CommandView | Problem]
     """


    kwargs = _get_kwargs(
        name=name,
body=body,
wait=wait,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    name: str,
    *,
    client: AuthenticatedClient,
    body: PowerRequest,
    wait: int | Unset = 0,

) -> CommandView | Problem | None:
    """ Power a guest on or off

     Through the command channel: `start` (IPL), `stop` (graceful HALT),
    `restart` (HALT, then IPL), `force_off` (FORCE). The owner, staff or an
    admin.

    Args:
        name (str):
        wait (int | Unset):  Default: 0.
        body (PowerRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        CommandView | Problem
     """


    return (await asyncio_detailed(
        name=name,
client=client,
body=body,
wait=wait,

    )).parsed
