from http import HTTPStatus
from typing import Any, cast
from urllib.parse import quote

import httpx

from ...client import AuthenticatedClient, Client
from ...types import Response, UNSET
from ... import errors

from ...models.problem import Problem
from ...models.session import Session
from ...models.session_request import SessionRequest
from typing import cast



def _get_kwargs(
    *,
    body: SessionRequest,

) -> dict[str, Any]:
    headers: dict[str, Any] = {}


    

    

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/auth/session",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs



def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Problem | Session | None:
    if response.status_code == 201:
        response_201 = Session.from_dict(response.json())



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

    if response.status_code == 413:
        response_413 = Problem.from_dict(response.json())



        return response_413

    if response.status_code == 422:
        response_422 = Problem.from_dict(response.json())



        return response_422

    if response.status_code == 429:
        response_429 = Problem.from_dict(response.json())



        return response_429

    if response.status_code == 503:
        response_503 = Problem.from_dict(response.json())



        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Problem | Session]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: SessionRequest,

) -> Response[Problem | Session]:
    """ Log in (web page)

     Like `POST /api/v1/auth/tokens`, but the token goes into the
    `herd_session` cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over
    TLS), and the answer carries the CSRF token that every change made with
    the cookie must send as `X-CSRF-Token`. A login sent by a page of
    another origin is `403`. Anyone.

    Args:
        body (SessionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Session]
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
    body: SessionRequest,

) -> Problem | Session | None:
    """ Log in (web page)

     Like `POST /api/v1/auth/tokens`, but the token goes into the
    `herd_session` cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over
    TLS), and the answer carries the CSRF token that every change made with
    the cookie must send as `X-CSRF-Token`. A login sent by a page of
    another origin is `403`. Anyone.

    Args:
        body (SessionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Session
     """


    return sync_detailed(
        client=client,
body=body,

    ).parsed

async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: SessionRequest,

) -> Response[Problem | Session]:
    """ Log in (web page)

     Like `POST /api/v1/auth/tokens`, but the token goes into the
    `herd_session` cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over
    TLS), and the answer carries the CSRF token that every change made with
    the cookie must send as `X-CSRF-Token`. A login sent by a page of
    another origin is `403`. Anyone.

    Args:
        body (SessionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Problem | Session]
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
    body: SessionRequest,

) -> Problem | Session | None:
    """ Log in (web page)

     Like `POST /api/v1/auth/tokens`, but the token goes into the
    `herd_session` cookie (`HttpOnly`, `SameSite=Strict`, `Secure` over
    TLS), and the answer carries the CSRF token that every change made with
    the cookie must send as `X-CSRF-Token`. A login sent by a page of
    another origin is `403`. Anyone.

    Args:
        body (SessionRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Problem | Session
     """


    return (await asyncio_detailed(
        client=client,
body=body,

    )).parsed
