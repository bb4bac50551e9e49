"""RFC 8785 canonical JSON and strict RFC 4648 base64 / base64url."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.canonical import EncodingError, b64d, b64e, b64url_d, b64url_e, canonical_json


def test_rfc8785_number_and_order_example() -> None:
    # RFC 8785 §3.2.2 / §3.2.3: ECMAScript number formatting and sorted member names.
    obj = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "literals": [None, True, False],
        "b": "x",
        "a": {"z": 1, "y": "\u20ac"},
    }
    assert canonical_json(obj) == (
        b'{"a":{"y":"\xe2\x82\xac","z":1},"b":"x","literals":[null,true,false],'
        b'"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27]}'
    )


def test_rfc8785_rejects_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


@given(st.binary(max_size=100))
def test_b64_round_trip(data: bytes) -> None:
    assert b64d(b64e(data)) == data
    assert b64url_d(b64url_e(data)) == data
    assert "=" not in b64url_e(data)


@pytest.mark.parametrize(
    "text",
    [
        "QQ",
        "QQ=",
        "QR==",
        "QUI",
        "QUJ=",
        "Q Q==",
        "QQ==\n",
        " QQ==",
        "====",
        "QQ==QQ==",
        "QQ-_",
        "\u00e9\u00e9==",
        "Q",
    ],
)
def test_b64d_rejects_malformed_or_noncanonical(text: str) -> None:
    with pytest.raises(EncodingError):
        b64d(text)


@pytest.mark.parametrize("text", ["QQ==", "QR", "QUJ", "Q", "a+b/", "QQ\n", "Q Q"])
def test_b64url_d_rejects_malformed_or_noncanonical(text: str) -> None:
    with pytest.raises(EncodingError):
        b64url_d(text)


def test_b64_types() -> None:
    with pytest.raises(EncodingError):
        b64d(b"QQ==")  # type: ignore[arg-type]
    assert b64d("") == b"" and b64url_d("") == b""


@given(st.text(max_size=12))
def test_b64d_accepts_only_canonical(text: str) -> None:
    try:
        raw = b64d(text)
    except EncodingError:
        return
    assert b64e(raw) == text
