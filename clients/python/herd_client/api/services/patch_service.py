from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.guest_service import GuestService
from ...models.problem import Problem
from ...models.service_patch import ServicePatch
from typing import cast



def _get_kwargs(
    name: str,
    service: str,
    *,
    body: ServicePatch,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "patch",
        "url": "/api/v1/guests/{name}/services/{service}".format(name=quote(str(name), safe=""),service=quote(str(service), safe=""),),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> GuestService | Problem | None:
    if response.status_code == 200:
        response_200 = GuestService.from_dict(response.json())



        return response_200

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[GuestService | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    name: str,
    service: str,
    *,
    client: AuthenticatedClient,
    body: ServicePatch,

) -> Response[GuestService | Problem]:
    """ Enable or disable a service at boot

     Takes effect at the guest's next IPL. The owner or an admin.

    Args:
        name (str):
        service (str):
        body (ServicePatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GuestService | Problem]
     """


    kwargs = _get_kwargs(
        name=name,
service=service,
body=body,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    name: str,
    service: str,
    *,
    client: AuthenticatedClient,
    body: ServicePatch,

) -> GuestService | Problem | None:
    """ Enable or disable a service at boot

     Takes effect at the guest's next IPL. The owner or an admin.

    Args:
        name (str):
        service (str):
        body (ServicePatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GuestService | Problem
     """


    return sync_detailed(
        name=name,
service=service,
client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    name: str,
    service: str,
    *,
    client: AuthenticatedClient,
    body: ServicePatch,

) -> Response[GuestService | Problem]:
    """ Enable or disable a service at boot

     Takes effect at the guest's next IPL. The owner or an admin.

    Args:
        name (str):
        service (str):
        body (ServicePatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GuestService | Problem]
     """


    kwargs = _get_kwargs(
        name=name,
service=service,
body=body,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    name: str,
    service: str,
    *,
    client: AuthenticatedClient,
    body: ServicePatch,

) -> GuestService | Problem | None:
    """ Enable or disable a service at boot

     Takes effect at the guest's next IPL. The owner or an admin.

    Args:
        name (str):
        service (str):
        body (ServicePatch):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GuestService | Problem
     """


    return (await asyncio_detailed(
        name=name,
service=service,
client=client,
body=body,

    )).parsed
