"""Uptime notifications through apprise, to a local JSON endpoint, recorded with retries."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.cases.test_notify import Hook
from tests.cases.test_notify import webhook as webhook  # a fixture

from bastion.store import Store
from bastion.uptime.notify import Notice, Notifier, notify


def test_apprise_delivers_to_a_local_json_endpoint_and_is_recorded(
    store: Store, webhook: Hook
) -> None:
    where = urlsplit(webhook.url)
    url = f"json://{where.hostname}:{where.port}{where.path}"
    notifier = Notifier(apprise_urls=(url,), attempts=2, backoff=0)
    notice = Notice("down", "RAL", "[DOWN] Portal: portal", "portal is down")
    with store.session() as session:
        [row] = notify(session, notifier, notice)
    assert (row.channel, row.status, row.attempts) == ("apprise", "sent", 1)
    assert [(p["title"], p["message"]) for p in webhook.posts] == [
        ("[DOWN] Portal: portal", "portal is down")
    ]


def test_an_unusable_apprise_url_is_recorded_as_failed(store: Store) -> None:
    notifier = Notifier(apprise_urls=("nosuchscheme://x",), attempts=2, backoff=0)
    with store.session() as session:
        [row] = notify(session, notifier, Notice("down", "RAL", "s", "b"))
    assert (row.status, row.attempts) == ("failed", 2)
    assert "nosuchscheme" in row.error
