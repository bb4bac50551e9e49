"""Stembus protocol primitives (pure library: no web framework, no database).

canonical (RFC 8785, RFC 4648), blindrsa (RFC 9474), sealing (RFC 9180 HPKE), credential
(Ed25519, RFC 8032), shamir (k-of-n trustee shares), merkle (RFC 9162), note (C2SP formats).
"""
