from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.batch_plan import BatchPlan
from ...models.batch_request import BatchRequest
from ...models.batch_view import BatchView
from ...models.problem import Problem
from ...types import UNSET, Unset
from typing import cast



def _get_kwargs(
    *,
    body: BatchRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key



    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/provisioning/batches",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> BatchPlan | BatchView | Problem | None:
    if response.status_code == 200:
        response_200 = BatchPlan.from_dict(response.json())



        return response_200

    if response.status_code == 202:
        response_202 = BatchView.from_dict(response.json())



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

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[BatchPlan | BatchView | Problem]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[BatchPlan | BatchView | Problem]:
    """ Provision a course

     Makes sure every listed user (or member of the directory group) has at least
    `guests_per_user` guests: pooled guests first, then clones in parallel.
    `dry_run` answers the plan and a capacity check and changes nothing. Staff
    and admins. Send an `Idempotency-Key` to make retries safe.

    Args:
        idempotency_key (None | str | Unset):
        body (BatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchPlan | BatchView | Problem]
     """


    kwargs = _get_kwargs(
        body=body,
idempotency_key=idempotency_key,

    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)

def sync(
    *,
    client: AuthenticatedClient,
    body: BatchRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> BatchPlan | BatchView | Problem | None:
    """ Provision a course

     Makes sure every listed user (or member of the directory group) has at least
    `guests_per_user` guests: pooled guests first, then clones in parallel.
    `dry_run` answers the plan and a capacity check and changes nothing. Staff
    and admins. Send an `Idempotency-Key` to make retries safe.

    Args:
        idempotency_key (None | str | Unset):
        body (BatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchPlan | BatchView | Problem
     """


    return sync_detailed(
        client=client,
body=body,
idempotency_key=idempotency_key,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: BatchRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> Response[BatchPlan | BatchView | Problem]:
    """ Provision a course

     Makes sure every listed user (or member of the directory group) has at least
    `guests_per_user` guests: pooled guests first, then clones in parallel.
    `dry_run` answers the plan and a capacity check and changes nothing. Staff
    and admins. Send an `Idempotency-Key` to make retries safe.

    Args:
        idempotency_key (None | str | Unset):
        body (BatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BatchPlan | BatchView | Problem]
     """


    kwargs = _get_kwargs(
        body=body,
idempotency_key=idempotency_key,

    )

    response = await client.get_async_httpx_client().request(
        **kwargs
    )

    return _build_response(client=client, response=response)

async def asyncio(
    *,
    client: AuthenticatedClient,
    body: BatchRequest,
    idempotency_key: None | str | Unset = UNSET,

) -> BatchPlan | BatchView | Problem | None:
    """ Provision a course

     Makes sure every listed user (or member of the directory group) has at least
    `guests_per_user` guests: pooled guests first, then clones in parallel.
    `dry_run` answers the plan and a capacity check and changes nothing. Staff
    and admins. Send an `Idempotency-Key` to make retries safe.

    Args:
        idempotency_key (None | str | Unset):
        body (BatchRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BatchPlan | BatchView | Problem
     """


    return (await asyncio_detailed(
        client=client,
body=body,
idempotency_key=idempotency_key,

    )).parsed
