from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bastion.core.errors import InputError
from bastion.core.types import Severity
from bastion.intel import Action, Indicator, IndicatorType, infer_type

T = IndicatorType


@pytest.mark.parametrize(
    ("kind", "value", "canonical"),
    [
        (T.IPV4, " 192.0.2.1 ", (T.IPV4, "192.0.2.1")),
        (T.IPV4, "::ffff:192.0.2.1", (T.IPV4, "192.0.2.1")),
        (T.IPV6, "2001:DB8:0:0:0:0:0:1", (T.IPV6, "2001:db8::1")),
        (T.CIDR, "2001:DB8::/32", (T.CIDR, "2001:db8::/32")),
        (T.CIDR, "192.0.2.7/32", (T.IPV4, "192.0.2.7")),
        (T.CIDR, "2001:db8::7/128", (T.IPV6, "2001:db8::7")),
        (T.DOMAIN, "Evil.Example.", (T.DOMAIN, "evil.example")),
        (T.DOMAIN, "bücher.example", (T.DOMAIN, "xn--bcher-kva.example")),
        (T.URL, "HTTP://Evil.Example:80", (T.URL, "http://evil.example/")),
        (T.URL, "https://Evil.Example/Path?Q=1", (T.URL, "https://evil.example/Path?Q=1")),
        (T.URL_PATTERN, "HTTP://Evil.Example/**.EXE", (T.URL_PATTERN, "http://evil.example/*.exe")),
        (T.URL_PATTERN, "http://evil.example:80", (T.URL_PATTERN, "http://evil.example/")),
        (
            T.URL_PATTERN,
            "http://*.evil.example:80/x",
            (T.URL_PATTERN, "http://*.evil.example:80/x"),
        ),
        (T.URL_PATTERN, "/Wp-Login*", (T.URL_PATTERN, "/wp-login*")),
        (T.SHA256, "A" * 64, (T.SHA256, "a" * 64)),
        (T.SHA1, "B" * 40, (T.SHA1, "b" * 40)),
        (T.MD5, "C" * 32, (T.MD5, "c" * 32)),
        (T.JA3, "D" * 32, (T.JA3, "d" * 32)),
        (
            T.JA4,
            "T13D1516H2_8daaf6152771_b186095e22b6",
            (T.JA4, "t13d1516h2_8daaf6152771_b186095e22b6"),
        ),
        (T.EMAIL, "Phish@Evil.Example", (T.EMAIL, "phish@evil.example")),
    ],
)
def test_indicator_values_are_normalised_per_type(
    kind: IndicatorType, value: str, canonical: tuple[IndicatorType, str]
) -> None:
    indicator = Indicator(kind, value, "feed")
    assert (indicator.type, indicator.value) == canonical


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (T.IPV4, "2001:db8::1"),
        (T.IPV6, "192.0.2.1"),
        (T.IPV4, "192.0.2.256"),
        (T.CIDR, "10.0.0.1/8"),
        (T.CIDR, "10.0.0.0/33"),
        (T.CIDR, "0.0.0.0/0"),
        (T.URL, "http://evil.example/" + "a" * 2048),
        (T.DOMAIN, "*.evil.example"),
        (T.DOMAIN, "evil..example"),
        (T.DOMAIN, "192.0.2.1"),
        (T.URL, "evil.example/path"),
        (T.URL_PATTERN, "*/a*"),
        (T.URL_PATTERN, "/a b"),
        (T.SHA256, "a" * 63),
        (T.MD5, "g" * 32),
        (T.JA4, "not-a-ja4"),
        (T.EMAIL, "nobody"),
        (T.DOMAIN, "  "),
    ],
)
def test_invalid_values_raise_input_error_on_the_value_field(
    kind: IndicatorType, value: str
) -> None:
    with pytest.raises(InputError) as raised:
        Indicator(kind, value, "feed")
    assert raised.value.location.field == "value"


def test_same_indicator_from_two_sources_has_one_id() -> None:
    one = Indicator(T.DOMAIN, "Evil.Example.", "abuse.ch")
    two = Indicator(T.DOMAIN, "evil.example", "misp")
    assert one.id == two.id == "domain:evil.example"
    assert one != two


def test_other_fields_are_checked_and_normalised() -> None:
    until = datetime(2030, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    indicator = Indicator(
        T.IPV4,
        "192.0.2.1",
        " feed ",
        severity="HIGH",  # type: ignore[arg-type]
        confidence=90,
        action="Block",  # type: ignore[arg-type]
        threat=" Emotet ",
        tags=("Botnet", "botnet", " c2 ", ""),
        valid_until=until,
    )
    assert indicator.source == "feed"
    assert indicator.severity is Severity.HIGH
    assert indicator.action is Action.BLOCK
    assert indicator.threat == "Emotet"
    assert indicator.tags == ("botnet", "c2")
    assert indicator.valid_until == datetime(2030, 1, 1, 10, tzinfo=UTC)
    assert indicator.active(datetime(2029, 12, 31, tzinfo=UTC))
    assert not indicator.active(datetime(2030, 1, 1, 10, tzinfo=UTC))


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("confidence", {"confidence": 101}),
        ("confidence", {"confidence": -1}),
        ("confidence", {"confidence": "high"}),
        ("source", {"source": " "}),
        ("severity", {"severity": "urgent"}),
        ("action", {"action": "drop"}),
        ("type", {"type": "hostname"}),
    ],
)
def test_bad_fields_are_named_in_the_error(field: str, changes: dict[str, object]) -> None:
    arguments: dict[str, object] = {"type": T.IPV4, "value": "192.0.2.1", "source": "feed"}
    with pytest.raises(InputError) as raised:
        Indicator(**{**arguments, **changes})  # type: ignore[arg-type]
    assert raised.value.location.field == field


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("192.0.2.1", T.IPV4),
        ("2001:db8::1", T.IPV6),
        ("192.0.2.0/24", T.CIDR),
        ("2001:db8::/32", T.CIDR),
        ("evil.example", T.DOMAIN),
        ("https://evil.example/x", T.URL),
        ("a" * 32, T.MD5),
        ("a" * 40, T.SHA1),
        ("a" * 64, T.SHA256),
        ("phish@evil.example", T.EMAIL),
    ],
)
def test_type_is_inferred_from_a_bare_value(value: str, kind: IndicatorType) -> None:
    assert infer_type(value) is kind


def test_md5_shaped_value_is_inferred_as_md5_never_ja3() -> None:
    assert infer_type("e7d705a3286e19ea42f587b344ee6865") is T.MD5


def test_uninferable_value_asks_for_a_type() -> None:
    with pytest.raises(InputError, match="give its type") as raised:
        infer_type("not a thing!")
    assert raised.value.location.field == "type"
