"""``one_of``: membership in a list bound as one parameter answers as ``in_`` does, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import event, not_, select

from bastion.orgs.models import OrganisationRow
from bastion.store import Store
from bastion.store.membership import one_of

NAMES = ["RJ1", "RAL", "X'1", 'Q"2', "Z\\3", "ÉÖ4"]  # quotes, a backslash, not ASCII


@pytest.fixture
def names(store: Store) -> Store:
    with store.session() as session:
        session.add_all(OrganisationRow(code=c, name=f"Trust {c}", type="trust") for c in NAMES)
    return store


@pytest.mark.parametrize(
    "wanted",
    [[], ["RJ1"], ["RJ1", "RAL"], ["X'1", 'Q"2', "Z\\3", "ÉÖ4"], ["NOPE"], [*NAMES, "NOPE"]],
)
def test_one_of_keeps_what_in_keeps_and_its_negation_the_rest(
    names: Store, wanted: list[str]
) -> None:
    with names.session() as session:
        kept = set(
            session.scalars(
                select(OrganisationRow.code).where(one_of(OrganisationRow.code, wanted))
            )
        )
        left = set(
            session.scalars(
                select(OrganisationRow.code).where(not_(one_of(OrganisationRow.code, wanted)))
            )
        )
        expected = set(
            session.scalars(select(OrganisationRow.code).where(OrganisationRow.code.in_(wanted)))
        )
    assert kept == expected == set(wanted) & set(NAMES)
    assert left == set(NAMES) - kept


def test_a_list_of_any_length_is_sent_as_one_parameter_in_one_statement(names: Store) -> None:
    sent: list[tuple[str, object]] = []

    def record(
        _conn: object, _cursor: object, statement: str, parameters: object, *_: object
    ) -> None:
        sent.append((statement, parameters))

    event.listen(names.engine, "before_cursor_execute", record)
    try:
        with names.session() as session:
            for wanted in (["RJ1"], [f"C{i}" for i in range(500)]):
                query = select(OrganisationRow.code).where(one_of(OrganisationRow.code, wanted))
                session.scalars(query).all()
    finally:
        event.remove(names.engine, "before_cursor_execute", record)
    (short, short_values), (long, long_values) = [s for s in sent if "organisations" in s[0]]
    assert short == long  # one text: the driver's and the server's statement caches hold it
    for values in (short_values, long_values):
        assert len(values) == 1  # type: ignore[arg-type]
