from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.lan import Lan
from ...models.new_lan import NewLan
from ...models.problem import Problem
from typing import cast



def _get_kwargs(
    *,
    body: NewLan,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/lans",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Lan | Problem | None:
    if response.status_code == 201:
        response_201 = Lan.from_dict(response.json())



        return response_201

    if response.status_code == 400:
        response_400 = Problem.from_dict(response.json())



        return response_400

    if response.status_code == 401:
        response_401 = Problem.from_dict(response.json())



        return response_401

    if response.status_code == 403:
        response_403 = Problem.from_dict(response.json())



        return response_403

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Lan | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: NewLan,

) -> Response[Lan | Problem]:
    """ Add a guest LAN

     Records a LAN; the privileged side defines it on the hypervisor before
    it grants the first guest on it. New guests go to the LAN with the most
    free addresses unless they ask for one. Admins only.

    Args:
        body (NewLan):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Lan | Problem]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: NewLan,

) -> Lan | Problem | None:
    """ Add a guest LAN

     Records a LAN; the privileged side defines it on the hypervisor before
    it grants the first guest on it. New guests go to the LAN with the most
    free addresses unless they ask for one. Admins only.

    Args:
        body (NewLan):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Lan | Problem
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: NewLan,

) -> Response[Lan | Problem]:
    """ Add a guest LAN

     Records a LAN; the privileged side defines it on the hypervisor before
    it grants the first guest on it. New guests go to the LAN with the most
    free addresses unless they ask for one. Admins only.

    Args:
        body (NewLan):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Lan | Problem]
     """


    kwargs = _get_kwargs(
        body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: NewLan,

) -> Lan | Problem | None:
    """ Add a guest LAN

     Records a LAN; the privileged side defines it on the hypervisor before
    it grants the first guest on it. New guests go to the LAN with the most
    free addresses unless they ask for one. Admins only.

    Args:
        body (NewLan):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Lan | Problem
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
