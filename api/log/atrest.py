"""Server private keys encrypted at rest (docs/protocol.md "Keys of an election").

AES-256-GCM under a key derived from the deployment secret for this one purpose
(``derive_key(settings, "keys-at-rest")``). The associated data names what the blob is (e.g.
``log-key/<election>``), so a stored key cannot be moved to another election or role unnoticed.
Layout: 12-byte random nonce ‖ ciphertext ‖ 16-byte tag.
"""

from __future__ import annotations

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from api.auth.tokens import derive_key
from api.settings import Settings

NONCE_LEN = 12


def _aead(settings: Settings) -> AESGCM:
    return AESGCM(derive_key(settings, "keys-at-rest"))


def encrypt(settings: Settings, plaintext: bytes, label: str) -> bytes:
    nonce = os.urandom(NONCE_LEN)
    return nonce + _aead(settings).encrypt(nonce, plaintext, label.encode())


def decrypt(settings: Settings, blob: bytes, label: str) -> bytes:
    """Raises cryptography.exceptions.InvalidTag for another secret, label or a tampered blob."""
    return _aead(settings).decrypt(blob[:NONCE_LEN], blob[NONCE_LEN:], label.encode())
