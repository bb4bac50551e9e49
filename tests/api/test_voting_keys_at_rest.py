"""Issuer private keys at rest (docs/protocol.md "Keys of an election": server private keys are
stored encrypted under the deployment secret). The stored bytes hold the key in no plain encoding,
and open only with this deployment's secret and under their own label."""

from __future__ import annotations

import base64

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from sqlmodel import Session, select

from api.log import atrest
from api.voting.models import IssuerKey
from crypto import blindrsa
from tests.api.test_voting_support import TWO_GROUPS, roll_csv_groups, voting_election

PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def _plain_forms(key) -> dict[str, bytes]:
    """Every plain encoding of the private key a careless store could hold."""
    nums = key.private_numbers()
    size = blindrsa.modulus_len(key)
    half = size // 2
    forms: dict[str, bytes] = {}
    for label, fmt in (
        ("PKCS#8", serialization.PrivateFormat.PKCS8),
        ("PKCS#1", serialization.PrivateFormat.TraditionalOpenSSL),
    ):
        pem = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        der = key.private_bytes(serialization.Encoding.DER, fmt, serialization.NoEncryption())
        forms[f"{label} PEM"] = pem
        forms[f"{label} PEM body line"] = pem.splitlines()[1]
        forms[f"{label} DER"] = der
        forms[f"{label} DER base64"] = base64.b64encode(der)[:64]
    for name, value, length in (
        ("d", nums.d, size),
        ("p", nums.p, half),
        ("q", nums.q, half),
        ("dp", nums.dmp1, half),
        ("dq", nums.dmq1, half),
        ("qi", nums.iqmp, half),
    ):
        raw = value.to_bytes(length, "big")
        forms[f"{name} big-endian"] = raw
        forms[f"{name} little-endian"] = value.to_bytes(length, "little")
        forms[f"{name} hex"] = raw.hex().encode()
        forms[f"{name} decimal"] = str(value).encode()
        forms[f"{name} base64url"] = base64.urlsafe_b64encode(raw).rstrip(b"=")
    return forms


def test_issuer_private_keys_are_encrypted_at_rest(app, client, make_election, settings):
    ve = voting_election(
        app,
        make_election,
        2,
        TWO_GROUPS,
        open_voting=False,
        roll=roll_csv_groups({"productie": 1, "kantoor": 1}),
    )
    published = client.get(ve.e.url("/voting/keys")).json()["entry"]["issuer_keys"]
    assert set(published) == {"productie", "kantoor"}
    for jwk in published.values():  # the keys entry holds public members only
        assert not set(jwk) & PRIVATE_JWK_MEMBERS, jwk
    with Session(app.state.engine) as s:
        rows = {
            r.group: bytes(r.private_key_enc)
            for r in s.exec(select(IssuerKey).where(IssuerKey.election_id == ve.id)).all()
        }
    assert set(rows) == {"productie", "kantoor"}
    assert rows["productie"] != rows["kantoor"]

    other_secret = settings.model_copy(update={"secret": "another-deployment-" + "x" * 40})
    for group, blob in rows.items():
        label = f"issuer-key/{ve.id}/{group}"
        pem = atrest.decrypt(settings, blob, label)
        key = blindrsa.private_key_from_pem(pem)
        # it is the key whose public half was published for this group
        assert blindrsa.public_keys_equal(
            key.public_key(), blindrsa.public_key_from_jwk(published[group])
        )
        # nonce ‖ AES-GCM(PEM) ‖ tag: no other copy of anything next to the ciphertext
        assert len(blob) == atrest.NONCE_LEN + len(pem) + 16
        for what, plain in _plain_forms(key).items():
            assert plain not in blob, what
        d = key.private_numbers().d.to_bytes(blindrsa.modulus_len(key), "big")
        assert not any(d[i : i + 16] in blob for i in range(len(d) - 15))
        # only this deployment's secret opens it, and only under its own label
        with pytest.raises(InvalidTag):
            atrest.decrypt(other_secret, blob, label)
        other_group = "kantoor" if group == "productie" else "productie"
        for wrong in (f"issuer-key/{ve.id}/{other_group}", f"log-key/{ve.id}", label + "x"):
            with pytest.raises(InvalidTag):
                atrest.decrypt(settings, blob, wrong)
        tampered = bytearray(blob)
        tampered[-1] ^= 1
        with pytest.raises(InvalidTag):
            atrest.decrypt(settings, bytes(tampered), label)
