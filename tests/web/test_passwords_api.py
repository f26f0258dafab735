"""The password check API: verdicts, the k-anonymous variant, policies, counts, nothing stored."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
from Crypto.Hash import MD4
from fastapi import FastAPI

from bastion import audit, passwords
from bastion.audit import Actor
from bastion.core.scope import Scope
from bastion.passwords.areas import NO_AREA
from bastion.store import Store
from bastion.web.testing import create_people, open_session, signed_in_client

pytestmark = pytest.mark.anyio

BREACHED = ["password", "123456", "correct horse battery staple"]


def build_store(app: FastAPI) -> Path:
    folder: Path = app.state.settings.passwords_dir
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "list.txt").write_text("\n".join(BREACHED) + "\n", encoding="utf-8")
    passwords.Builder(folder, [passwords.source(folder / "list.txt")]).run()
    (folder / "list.txt").unlink()
    return folder


@pytest.fixture
def world(
    sqlite_store: Store, tmp_path: Path, make_app: object
) -> tuple[FastAPI, dict[str, tuple[str, str]]]:
    app = make_app(sqlite_store, tmp_path)  # type: ignore[operator]
    build_store(app)
    people = create_people(sqlite_store)
    return app, {name: open_session(sqlite_store, p) for name, p in people.items()}


async def test_checks_answer_reasons_and_counts_reach_the_stats(
    world: tuple[FastAPI, dict[str, tuple[str, str]]],
) -> None:
    app, sessions = world
    async with signed_in_client(app, *sessions["lead"]) as lead:
        url = "/api/v1/passwords/check"
        answers = [
            await lead.post(url, json={"password": "correct horse battery staple"}),
            await lead.post(url, json={"password": "short"}),
            await lead.post(url, json={"password": "Royal Free London", "mfa": True}),
            await lead.post(url, json={"password": "four unrelated words here"}),
            await lead.post(
                url, json={"password": "j.smith.account", "user_words": ["j.smith.account"]}
            ),
        ]
        assert [a.json()["reason"] for a in answers] == [
            "breached",
            "too_short",
            "context",
            "accepted",
            "context",
        ]
        assert "at least 15" in answers[1].json()["message"]
        stats = (await lead.get("/api/v1/passwords/stats")).json()
    assert {(s["org"], s["reason"]): s["checks"] for s in stats} == {
        ("RAL", "accepted"): 1,
        ("RAL", "breached"): 1,
        ("RAL", "context"): 2,
        ("RAL", "too_short"): 1,
    }
    async with signed_in_client(app, *sessions["multi"]) as multi:  # viewer at RAL, lead at RJ1
        await multi.post("/api/v1/passwords/check", json={"password": "x", "org": "RJ1"})
        theirs = (await multi.get("/api/v1/passwords/stats")).json()
    async with signed_in_client(app, *sessions["viewer"]) as viewer:
        own = (await viewer.get("/api/v1/passwords/stats")).json()
    async with signed_in_client(app, *sessions["auditor"]) as auditor:
        national = (await auditor.get("/api/v1/passwords/stats")).json()
    assert {s["org"] for s in own} == {"RAL"}
    assert {s["org"] for s in theirs} == {"RAL", "RJ1"}
    assert sum(s["checks"] for s in national) == 6


async def test_the_k_anonymous_variant_answers_suffixes_over_the_policys_count(
    world: tuple[FastAPI, dict[str, tuple[str, str]]],
) -> None:
    app, sessions = world
    digest = hashlib.sha1(b"password").hexdigest().upper()
    async with signed_in_client(app, *sessions["lead"]) as lead:
        answer = (
            await lead.post("/api/v1/passwords/check/range", json={"prefix": digest[:5].lower()})
        ).json()
        bad = await lead.post("/api/v1/passwords/check/range", json={"prefix": "XYZ12"})
    assert answer["suffixes"] == {digest[5:]: 1}
    assert answer["policy"]["min_length"] == 15
    assert bad.status_code == 400
    async with signed_in_client(app, *sessions["lead"]) as lead:
        stats = (await lead.get("/api/v1/passwords/stats")).json()
    # Counted once (the refused prefix is not), as prefix_only: the client decides the verdict.
    assert [(s["org"], s["reason"], s["checks"]) for s in stats] == [("RAL", "prefix_only", 1)]


async def test_counts_carry_the_icb_and_region_of_their_organisation(
    world: tuple[FastAPI, dict[str, tuple[str, str]]], sqlite_store: Store
) -> None:
    app, sessions = world
    with sqlite_store.session() as session:
        passwords.count_check(session, "RX1", "breached")  # a trust outside the ICB tree
    async with signed_in_client(app, *sessions["lead"]) as lead:
        await lead.post("/api/v1/passwords/check", json={"password": "short"})
        own = (await lead.get("/api/v1/passwords/stats")).json()
    async with signed_in_client(app, *sessions["auditor"]) as auditor:
        national = (await auditor.get("/api/v1/passwords/stats")).json()
    assert [(s["org"], s["icb"], s["region"]) for s in own] == [("RAL", "QWE", "Y56")]
    assert {(s["org"], s["icb"], s["region"]) for s in national} == {
        ("RAL", "QWE", "Y56"),
        ("RX1", None, None),
    }
    with sqlite_store.session() as session:
        counts = passwords.check_counts(session, Scope.everything())
        placed = passwords.areas(session, {c.org for c in counts})
    assert passwords.blocks_by(counts, placed, "region") == {
        (counts[0].month, "NHS England London"): 1,
        (counts[0].month, NO_AREA): 1,
    }


async def test_policies_are_per_organisation_validated_and_audited(
    world: tuple[FastAPI, dict[str, tuple[str, str]]], sqlite_store: Store
) -> None:
    app, sessions = world
    policy = {"scoring": True, "banned_terms": ["Royalfree", "theatre"], "min_length": 12}
    async with signed_in_client(app, *sessions["lead"]) as lead:
        saved = await lead.put("/api/v1/passwords/policy", params={"org": "RAL"}, json=policy)
        national = await lead.put("/api/v1/passwords/policy", json=policy)
        bad = await lead.put(
            "/api/v1/passwords/policy", params={"org": "RAL"}, json={"banned_terms": ["abc"]}
        )
        check = await lead.post("/api/v1/passwords/check", json={"password": "Theatre!!RoyalFree"})
        shown = (await lead.get("/api/v1/passwords/policy", params={"org": "RAL"})).json()
    assert saved.status_code == 200
    assert saved.json()["banned_terms"] == ["royalfree", "theatre"]
    assert national.status_code == 403
    assert bad.status_code == 400
    assert check.json()["reason"] == "banned_term"
    assert shown["owner"] == "RAL"
    async with signed_in_client(app, *sessions["viewer"]) as viewer:
        assert (await viewer.get("/api/v1/passwords/policy")).json()["owner"] == "RAL"
    async with signed_in_client(app, *sessions["admin"]) as admin:
        assert (
            await admin.put("/api/v1/passwords/policy", json={"min_length": 16})
        ).status_code == 200
        assert (await admin.get("/api/v1/passwords/policy", params={"org": "RJ1"})).json()[
            "min_length"
        ] == 16
    with sqlite_store.session() as session:
        events, _ = audit.list_events(session, action="passwords.policy.set")
    assert sorted((e.actor, e.org) for e in events) == [("user:admin", None), ("user:lead", "RAL")]


async def test_no_password_hash_or_username_is_stored_or_logged(
    world: tuple[FastAPI, dict[str, tuple[str, str]]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app, sessions = world
    secret, account = "Unguessable-Marmalade-Orbit-42", "z.quartermaine"
    caplog.set_level(logging.DEBUG)
    async with signed_in_client(app, *sessions["lead"]) as lead:
        for mfa in (False, True):
            answer = await lead.post(
                "/api/v1/passwords/check",
                json={"password": secret, "mfa": mfa, "user_words": [account]},
            )
            assert answer.json()["accepted"]
        prefix = hashlib.sha1(secret.encode()).hexdigest()[:5]
        anonymous = await lead.post("/api/v1/passwords/check/range", json={"prefix": prefix})
        assert anonymous.json()["suffixes"] == {}
    with app.state.store.session() as session:
        counted = passwords.check_counts(session, Scope.everything())
    assert sorted((c.reason, c.checks) for c in counted) == [("accepted", 2), ("prefix_only", 1)]
    sha1 = hashlib.sha1(secret.encode()).hexdigest()
    ntlm = MD4.new(secret.encode("utf-16-le")).hexdigest()
    needles = [secret, account, sha1, sha1.upper(), ntlm, ntlm.upper(), sha1[5:].upper()]
    haystacks = {"logs": caplog.text + "".join(capsys.readouterr())}
    store_folder = app.state.settings.passwords_dir.resolve()
    for path in tmp_path.rglob("*"):
        if path.is_file() and store_folder not in path.resolve().parents:
            haystacks[str(path)] = path.read_bytes().decode("latin-1")
    assert any(p.endswith("bastion.db") for p in haystacks)
    found = [(where, n) for where, text in haystacks.items() for n in needles if n in text]
    assert not found
    digest = bytes.fromhex(sha1)
    for where, text in haystacks.items():
        assert digest.decode("latin-1") not in text, where


async def test_without_a_store_the_check_answers_503_and_counts_nothing(
    sqlite_store: Store, tmp_path: Path, make_app: object
) -> None:
    app = make_app(sqlite_store, tmp_path)  # type: ignore[operator]
    people = create_people(sqlite_store)
    async with signed_in_client(app, *open_session(sqlite_store, people["lead"])) as lead:
        answer = await lead.post(
            "/api/v1/passwords/check", json={"password": "any long new passphrase"}
        )
        stats = (await lead.get("/api/v1/passwords/stats")).json()
    assert answer.status_code == 503
    assert "not available" in answer.json()["detail"]
    assert stats == []


async def test_audit_reports_are_kept_per_organisation_without_a_hash(
    world: tuple[FastAPI, dict[str, tuple[str, str]]], sqlite_store: Store, tmp_path: Path
) -> None:
    app, sessions = world
    breached, fresh = (bytes(d).hex() for d in passwords.ntlm_many(["password", "Qx-9f!long"]))
    dump = tmp_path / "ral.txt"
    dump.write_text(
        f"a.one:1:aa:{breached}:::\nb.two:2:aa:{fresh}:::\nc.three:3:aa:{fresh}:::\nbad line\n",
        encoding="utf-8",
    )
    stores = passwords.Stores(app.state.settings.passwords_dir)
    with sqlite_store.session() as session:
        ours, _ = passwords.run_audit(session, stores, Actor.cli("ops"), "ral", dump)
        theirs, _ = passwords.run_audit(session, stores, Actor.cli("ops"), "RJ1", dump)
    dump.unlink()
    async with signed_in_client(app, *sessions["lead"]) as lead:
        listed = (await lead.get("/api/v1/passwords/audits")).json()
        shown = (await lead.get(f"/api/v1/passwords/audits/{ours}")).json()
        other = await lead.get(f"/api/v1/passwords/audits/{theirs}")
        absent = await lead.get("/api/v1/passwords/audits/999999")
    assert [r["id"] for r in listed] == [ours]
    assert (shown["org"], shown["source"], shown["accounts"]) == ("RAL", "ral.txt", 3)
    assert shown["breached"] == ["a.one"]
    assert shown["shared"] == [["b.two", "c.three"]]
    assert shown["bad_lines"] == [4]
    assert other.status_code == absent.status_code == 404
    assert other.json()["detail"].replace(str(theirs), "N") == absent.json()["detail"].replace(
        "999999", "N"
    )
    async with signed_in_client(app, *sessions["auditor"]) as auditor:
        national = (await auditor.get("/api/v1/passwords/audits")).json()
    assert [r["org"] for r in national] == ["RJ1", "RAL"]
    with sqlite_store.session() as session:
        events, _ = audit.list_events(session, action="passwords.audit.run")
    assert sorted(e.org for e in events) == ["RAL", "RJ1"]
    assert events[0].after == {"accounts": 3, "breached": 1, "shared": 2, "empty": 0}
    database = b"".join(p.read_bytes() for p in tmp_path.glob("bastion.db*"))
    for nt in (breached, fresh):
        assert nt.encode() not in database
        assert nt.upper().encode() not in database
        assert bytes.fromhex(nt) not in database
