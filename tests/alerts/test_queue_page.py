"""The queue's page: walked by cursor in the list's order, counted up to a cap, no evidence."""

from __future__ import annotations

import polars as pl
import pytest
from tests.alerts.test_store import hits

from bastion.alerts import AlertFilter, alert_page, list_alerts, record_alerts
from bastion.core.errors import InputError
from bastion.store import Store


def _alerts(store: Store, count: int) -> None:
    """Record ``count`` alerts of their own keys, one a minute, two severities."""
    frames = [hits(i, key=f"ind-{i}", severity="high" if i % 2 else "low") for i in range(count)]
    with store.session() as session:
        record_alerts(session, pl.concat(frames))


@pytest.mark.parametrize("sort", ["last_seen", "severity", "count", "id"])
def test_the_cursor_walks_every_alert_once_in_the_order_of_offsets(store: Store, sort: str) -> None:
    _alerts(store, 23)
    with store.session() as session:
        everything, total = list_alerts(session, sort=sort)
        walked, cursor = [], None
        while True:
            page = alert_page(session, AlertFilter(), limit=5, sort=sort, cursor=cursor)
            walked += [a.id for a in page.alerts]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert total == 23
    assert walked == [a.id for a in everything]
    assert page.total == 23
    assert page.exact


def test_an_empty_page_still_counts_what_matches(store: Store) -> None:
    """The count rides on the page's rows; a page with none asks it alone."""
    _alerts(store, 10)
    with store.session() as session:
        second = alert_page(session, AlertFilter(), limit=5, offset=5)
        assert second.next_cursor is not None  # full: there may be more
        after = alert_page(session, AlertFilter(), limit=5, cursor=second.next_cursor)
        past = alert_page(session, AlertFilter(), limit=5, offset=20)
        nothing = alert_page(session, AlertFilter(key="no-such-key"), limit=5)
        count_only = alert_page(session, AlertFilter(severity="high"), limit=0)
    assert (second.total, len(second.alerts)) == (10, 5)
    assert (after.alerts, after.total, after.exact) == ([], 10, True)
    assert (past.alerts, past.total, past.exact) == ([], 10, True)
    assert (nothing.alerts, nothing.total, nothing.exact) == ([], 0, True)
    assert (count_only.alerts, count_only.total) == ([], 5)


def test_the_count_stops_at_the_cap_past_the_offset_and_says_so(store: Store) -> None:
    _alerts(store, 12)
    with store.session() as session:
        capped = alert_page(session, AlertFilter(), limit=2, count_limit=5)
        later = alert_page(session, AlertFilter(), limit=2, offset=4, count_limit=5)
        exact = alert_page(session, AlertFilter(severity="high"), limit=2, count_limit=6)
    assert (capped.total, capped.exact) == (5, False)  # "5+"
    assert (later.total, later.exact) == (9, False)  # the pager still reaches further
    assert (exact.total, exact.exact) == (6, True)
    assert all(a.evidence == () for a in capped.alerts)  # a list reads no evidence
    with store.session() as session:
        [full] = list_alerts(session, limit=1)[0]
    assert full.evidence  # one alert as list_alerts reads it: with its evidence


def test_counting_none_says_only_whether_any_match_past_the_page(store: Store) -> None:
    _alerts(store, 7)
    with store.session() as session:
        some = alert_page(session, AlertFilter(), limit=3, count_limit=0)
        none = alert_page(session, AlertFilter(key="no-such-key"), limit=3, count_limit=0)
        later = alert_page(session, AlertFilter(), limit=3, offset=3, count_limit=0)
        past = alert_page(session, AlertFilter(), limit=3, offset=9, count_limit=0)
        after = alert_page(session, AlertFilter(), limit=3, count_limit=0, cursor=some.next_cursor)
    assert (len(some.alerts), some.total, some.exact) == (3, 0, False)  # "more than none"
    assert (none.alerts, none.total, none.exact) == ([], 0, True)
    assert (len(later.alerts), later.total, later.exact) == (3, 3, False)
    assert (past.alerts, past.total, past.exact) == ([], 7, True)  # counted: all 7 before it
    assert (len(after.alerts), after.total, after.exact) == (3, 0, False)


@pytest.mark.parametrize("cursor", ["nope", "W10", "WyJpZCIsMSwiYSJd", "%%%"])
def test_a_cursor_that_is_not_one_is_an_input_error(store: Store, cursor: str) -> None:
    _alerts(store, 2)
    with store.session() as session, pytest.raises(InputError, match="invalid cursor"):
        alert_page(session, AlertFilter(), limit=1, cursor=cursor)


def test_a_cursor_of_another_sort_is_refused(store: Store) -> None:
    _alerts(store, 3)
    with store.session() as session:
        cursor = alert_page(session, AlertFilter(), limit=1).next_cursor
        assert cursor is not None
        with pytest.raises(InputError, match="same sort"):
            alert_page(session, AlertFilter(), limit=1, sort="count", cursor=cursor)
