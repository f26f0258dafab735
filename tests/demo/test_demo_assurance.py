"""The demo's assurance year: status shares, a readiness rising ~48 % to ~70 %, fast inserts."""

from __future__ import annotations

from bastion import assure, demo
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.demo.assurance import load_demo_assurance
from bastion.store import Store


def test_the_demo_year_has_realistic_shares_and_a_rising_readiness(sqlite_store: Store) -> None:
    generated = demo.generate_federation(7, "small")
    with sqlite_store.session() as session:
        demo.load_federation(session, generated, actor=Actor.cli("demo"))
        report = load_demo_assurance(session, generated, actor=Actor.cli("demo"), returns=2000)
        board = assure.dashboard(session, Scope.everything(), "2024-25")
    assert report.returns == 2000
    shares = {k: v / report.returns for k, v in board.statuses.items()}
    assert 0.58 < shares["Standards Met"] < 0.72
    assert 0.22 < shares["Approaching Standards"] < 0.32
    assert 0.04 < shares["Standards Exceeded"] < 0.10
    assert 0.01 < shares["Not Published"] < 0.05
    assert 44 < report.readiness_first < 52
    assert 66 < report.readiness_last < 74
    trend = [t["mean"] for t in board.readiness_trend]
    assert trend[0] < 55
    assert trend[-1] > 63
    assert len(board.late) > 0.05 * report.returns
