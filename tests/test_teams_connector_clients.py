"""Connector clients kept between turns: bounded, and those pushed out are closed after a grace period."""

from __future__ import annotations

import asyncio

from adapters.teams.app import ConnectorClients


class Client:
    """Stands in for botframework-connector's `ConnectorClient`: all the cache needs is `__aexit__`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = False

    async def __aexit__(self, *exc: object) -> None:
        self.closed = True


def key(n: int) -> tuple[str | None, str, str | None]:
    return ("app", f"https://smba.trafficmanager.net/region-{n}/", None)


async def test_the_least_recently_used_client_is_pushed_out_and_closed_after_the_grace_period() -> None:
    clients = ConnectorClients(size=2, grace_seconds=0.05)
    first, second, third = Client("1"), Client("2"), Client("3")
    clients.put(key(1), first)
    clients.put(key(2), second)
    assert clients.get(key(1)) is first  # now the most recently used
    clients.put(key(3), third)

    assert clients.get(key(2)) is None and clients.get(key(1)) is first
    assert not second.closed, "a turn that took it a moment ago may still be sending"
    await asyncio.sleep(0.2)
    assert second.closed and not first.closed and not third.closed
    assert not clients.retiring


async def test_closing_closes_the_kept_clients_and_those_still_retiring() -> None:
    clients = ConnectorClients(size=1, grace_seconds=60)
    old, new = Client("old"), Client("new")
    clients.put(key(1), old)
    clients.put(key(2), new)
    await clients.close()
    assert old.closed and new.closed
    assert clients.get(key(2)) is None
