"""Drives the generated Python client (herd_client) against a running herd-server.

Run by tests/tests/clients.rs after `pip install ./clients/python` into a
throwaway venv. Environment: HERD_URL, HERD_USERNAME (default admin),
HERD_PASSWORD, HERD_GUEST (guest to open a port on), HERD_PORT (default 8080).
Prints one JSON line: {"guests": [...], "lease": {...}, "refused": {...}}.
"""

import json
import os
import sys

from herd_client import AuthenticatedClient, Client
from herd_client.api.auth import create_token
from herd_client.api.firewall import close_lease, open_lease
from herd_client.api.guests import list_guests, power
from herd_client.models import (
    CommandStatus,
    OpenLease,
    PowerAction,
    PowerRequest,
    Problem,
    Protocol,
    TokenRequest,
)


def main() -> int:
    url = os.environ["HERD_URL"]
    anon = Client(base_url=url)
    tok = create_token.sync(
        client=anon,
        body=TokenRequest(
            username=os.environ.get("HERD_USERNAME", "admin"),
            password=os.environ["HERD_PASSWORD"],
        ),
    )
    if isinstance(tok, Problem) or tok is None:
        print(f"login failed: {tok}", file=sys.stderr)
        return 1

    client = AuthenticatedClient(base_url=url, token=tok.token)
    page = list_guests.sync(client=client)
    if isinstance(page, Problem) or page is None:
        print(f"list guests failed: {page}", file=sys.stderr)
        return 1
    names = [g.name for g in page.items]

    guest = os.environ["HERD_GUEST"]
    port = int(os.environ.get("HERD_PORT", "8080"))
    lease = open_lease.sync(
        name=guest, client=client, body=OpenLease(port=port, protocol=Protocol.TCP)
    )
    if isinstance(lease, Problem) or lease is None:
        print(f"open port failed: {lease}", file=sys.stderr)
        return 1
    refused = open_lease.sync_detailed(
        name=guest, client=client, body=OpenLease(port=22, protocol=Protocol.TCP)
    )
    closed = close_lease.sync_detailed(id=lease.id, client=client)
    # Enums both ways: the action sent as one, the status read back as one.
    command = power.sync(
        name=guest, client=client, body=PowerRequest(action=PowerAction.RESTART)
    )
    if isinstance(command, Problem) or command is None:
        print(f"power failed: {command}", file=sys.stderr)
        return 1

    print(
        json.dumps(
            {
                "guests": names,
                "lease": {"id": lease.id, "port": lease.port, "guest": lease.guest},
                "refused": {
                    "status": int(refused.status_code),
                    "title": getattr(refused.parsed, "title", None),
                },
                "closed": int(closed.status_code),
                "command": {
                    "status_is_enum": isinstance(command.status, CommandStatus),
                    "status": command.status.value,
                    "text": command.text,
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
