"""The raw RSA private operation (RSASP1, no padding) from the system's OpenSSL 3 ``libcrypto``.

Used by :class:`crypto.blindrsa.BlindSigner`. ``cryptography`` does not expose an unpadded RSA
private operation and links its own OpenSSL statically, so this binds the shared ``libcrypto``
that Python's ``_ssl`` and ``_hashlib`` use (found with :func:`ctypes.util.find_library`) through
:class:`ctypes.CDLL`, which releases the GIL for the duration of every call.

Only OpenSSL 3.x is accepted (``OpenSSL_version_num()``): the functions below are its public EVP
API. Every function gets explicit ``argtypes``/``restype``, pointers travel as ``c_void_p``
(Python ints, never truncated to C ``int``), every return code is checked, and a failure drains
this thread's OpenSSL error queue into the :class:`LibcryptoError` it raises.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import weakref
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

__all__ = ["LibcryptoError", "RSAPrivateOp", "load", "version_text"]

_EVP_PKEY_RSA = 6  # NID_rsaEncryption (openssl/obj_mac.h)
_RSA_NO_PADDING = 3  # openssl/rsa.h
_RSA_FLAG_NO_BLINDING = 0x0080  # openssl/rsa.h
_OPENSSL_VERSION = 0  # OpenSSL_version() selector for the "OpenSSL 3.x.y  date" text

_c_void_p_p = ctypes.POINTER(ctypes.c_void_p)
_c_size_t_p = ctypes.POINTER(ctypes.c_size_t)

# name: (restype, argtypes). Pointers are c_void_p; output buffers c_char_p (a ctypes char array).
_SIGNATURES: dict[str, tuple[Any, list[Any]]] = {
    "OpenSSL_version_num": (ctypes.c_ulong, []),
    "OpenSSL_version": (ctypes.c_char_p, [ctypes.c_int]),
    "ERR_get_error": (ctypes.c_ulong, []),
    "ERR_error_string_n": (None, [ctypes.c_ulong, ctypes.c_char_p, ctypes.c_size_t]),
    "ERR_clear_error": (None, []),
    "ERR_set_mark": (ctypes.c_int, []),
    "ERR_pop_to_mark": (ctypes.c_int, []),
    # EVP_PKEY *d2i_AutoPrivateKey(EVP_PKEY **a, const unsigned char **pp, long length)
    "d2i_AutoPrivateKey": (ctypes.c_void_p, [ctypes.c_void_p, _c_void_p_p, ctypes.c_long]),
    "EVP_PKEY_free": (None, [ctypes.c_void_p]),
    "EVP_PKEY_get_base_id": (ctypes.c_int, [ctypes.c_void_p]),
    "EVP_PKEY_get_size": (ctypes.c_int, [ctypes.c_void_p]),
    # const RSA *EVP_PKEY_get0_RSA(const EVP_PKEY *pkey); int RSA_test_flags(const RSA *r, int f)
    "EVP_PKEY_get0_RSA": (ctypes.c_void_p, [ctypes.c_void_p]),
    "RSA_test_flags": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    # EVP_PKEY_CTX *EVP_PKEY_CTX_new(EVP_PKEY *pkey, ENGINE *e)
    "EVP_PKEY_CTX_new": (ctypes.c_void_p, [ctypes.c_void_p, ctypes.c_void_p]),
    "EVP_PKEY_CTX_free": (None, [ctypes.c_void_p]),
    "EVP_PKEY_sign_init": (ctypes.c_int, [ctypes.c_void_p]),
    "EVP_PKEY_CTX_set_rsa_padding": (ctypes.c_int, [ctypes.c_void_p, ctypes.c_int]),
    # int EVP_PKEY_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
    #                   const unsigned char *tbs, size_t tbslen)
    "EVP_PKEY_sign": (
        ctypes.c_int,
        [ctypes.c_void_p, ctypes.c_char_p, _c_size_t_p, ctypes.c_char_p, ctypes.c_size_t],
    ),
}


class LibcryptoError(RuntimeError):
    """libcrypto 3.x is not available, or one of its calls failed (message: OpenSSL's errors)."""


class _Lib:
    """The declared functions of one loaded libcrypto."""

    def __init__(self, dll: ctypes.CDLL) -> None:
        self.dll = dll
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(dll, name)  # AttributeError if the symbol is missing
            fn.restype = restype
            fn.argtypes = argtypes
            setattr(self, name, fn)

    def __getattr__(self, name: str) -> Any:  # for mypy: the functions are set in __init__
        raise AttributeError(name)

    def errors(self, what: str) -> LibcryptoError:
        """Drain this thread's OpenSSL error queue into an exception about ``what``."""
        messages = []
        buf = ctypes.create_string_buffer(256)
        for _ in range(64):  # the queue holds at most 16 entries; bound the loop regardless
            code = self.ERR_get_error()
            if not code:
                break
            self.ERR_error_string_n(code, buf, len(buf))
            messages.append(buf.value.decode("ascii", "replace"))
        self.ERR_clear_error()
        detail = "; ".join(messages) if messages else "no OpenSSL error queued"
        return LibcryptoError(f"{what} failed: {detail}")


_LOCK = threading.Lock()
_LOADED: _Lib | None = None
_FAILURE: str | None = None


def load() -> _Lib:
    """The system libcrypto 3.x (loaded once per process); :class:`LibcryptoError` if absent."""
    global _LOADED, _FAILURE
    with _LOCK:
        if _LOADED is None and _FAILURE is None:
            try:
                _LOADED = _load()
            except LibcryptoError as exc:
                _FAILURE = str(exc)
        if _LOADED is None:
            raise LibcryptoError(_FAILURE)
        return _LOADED


def _load() -> _Lib:
    name = ctypes.util.find_library("crypto")
    if name is None:
        raise LibcryptoError("no libcrypto found (ctypes.util.find_library('crypto'))")
    try:
        dll = ctypes.CDLL(name)
        version_num = dll.OpenSSL_version_num
        version_num.restype = ctypes.c_ulong
        version_num.argtypes = []
        # OPENSSL_VERSION_NUMBER is 0xMNN00PP0 from 3.0 on: the top nibble is the major version.
        major = version_num() >> 28
        if major != 3:
            raise LibcryptoError(f"{name} is OpenSSL major version {major}, not 3")
        return _Lib(dll)
    except (OSError, AttributeError) as exc:
        raise LibcryptoError(f"cannot use {name}: {exc}") from exc


def version_text() -> str:
    """``OpenSSL 3.x.y  <date>`` of the loaded libcrypto."""
    raw = load().OpenSSL_version(_OPENSSL_VERSION)
    return raw.decode("ascii", "replace") if raw else "unknown"


class RSAPrivateOp:
    """An RSA private key held by libcrypto as an ``EVP_PKEY``; :meth:`rsasp1` is RSASP1.

    The ``EVP_PKEY`` is created once and freed when this object is garbage-collected. OpenSSL 3
    allows one ``EVP_PKEY`` to be used by many threads at once for signing, so each call makes
    its own short-lived ``EVP_PKEY_CTX`` and instances are safe to share between threads.

    Side channels: OpenSSL blinds every RSA private operation unless ``RSA_FLAG_NO_BLINDING`` is
    set on the key (``rsa_ossl_private_encrypt`` in crypto/rsa/rsa_ossl.c: ``if (!(rsa->flags &
    RSA_FLAG_NO_BLINDING))`` → ``BN_BLINDING_convert_ex`` before and ``BN_BLINDING_invert_ex``
    after the CRT exponentiation); OpenSSL never sets that flag itself, only an application
    calling ``RSA_blinding_off`` or installing an RSA_METHOD that carries it would. The
    constructor checks that the flag is clear on the loaded key (via its ``RSA`` view, which
    OpenSSL builds with the same constructor and default method as the provider-side key the
    signature runs on) and refuses the key otherwise. The CRT exponentiations are constant-time
    (``BN_mod_exp_mont_consttime[_x2]``), and ``rsa_ossl_mod_exp`` itself re-checks the CRT
    result with the public exponent (recomputing without CRT on a mismatch); the caller checks
    ``s^e = m`` once more regardless.
    """

    __slots__ = ("__weakref__", "_finalizer", "_lib", "_pkey", "_size")

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise TypeError("expected an RSA private key")
        lib = load()
        self._lib = lib
        self._size = (private_key.key_size + 7) // 8
        pkey = _load_pkey(lib, private_key)
        # From here on the EVP_PKEY is freed exactly once: when this object is collected. Not at
        # interpreter exit (atexit=False), where a daemon thread could still be signing with it.
        self._pkey: int = pkey
        self._finalizer = weakref.finalize(self, lib.EVP_PKEY_free, pkey)
        self._finalizer.atexit = False
        if lib.EVP_PKEY_get_base_id(pkey) != _EVP_PKEY_RSA:
            raise LibcryptoError("libcrypto did not load the key as rsaEncryption")
        if lib.EVP_PKEY_get_size(pkey) != self._size:
            raise LibcryptoError("libcrypto reports another modulus length for the key")
        rsa_view = lib.EVP_PKEY_get0_RSA(pkey)
        if not rsa_view:
            raise lib.errors("EVP_PKEY_get0_RSA")
        if lib.RSA_test_flags(rsa_view, _RSA_FLAG_NO_BLINDING):
            raise LibcryptoError("RSA blinding is switched off for this key: refusing to use it")

    @property
    def modulus_len(self) -> int:
        return self._size

    def rsasp1(self, representative: bytes) -> bytes:
        """``I2OSP(m^d mod n, k)`` for ``m = OS2IP(representative)``; exactly ``k`` bytes in.

        OpenSSL refuses ``m >= n`` itself (``RSA_R_DATA_TOO_LARGE_FOR_MODULUS``), but callers
        should check the range first to get a clear error. Raises :class:`LibcryptoError`.
        """
        k = self._size
        if len(representative) != k:
            raise ValueError(f"the RSA input must be exactly {k} bytes")
        lib = self._lib
        out = ctypes.create_string_buffer(k)
        out_len = ctypes.c_size_t(k)
        ctx = lib.EVP_PKEY_CTX_new(self._pkey, None)
        if not ctx:
            raise lib.errors("EVP_PKEY_CTX_new")
        try:
            if lib.EVP_PKEY_sign_init(ctx) <= 0:
                raise lib.errors("EVP_PKEY_sign_init")
            if lib.EVP_PKEY_CTX_set_rsa_padding(ctx, _RSA_NO_PADDING) <= 0:
                raise lib.errors("EVP_PKEY_CTX_set_rsa_padding(RSA_NO_PADDING)")
            if lib.EVP_PKEY_sign(ctx, out, ctypes.byref(out_len), representative, k) <= 0:
                raise lib.errors("EVP_PKEY_sign")
        finally:
            lib.EVP_PKEY_CTX_free(ctx)
        if out_len.value != k:
            raise LibcryptoError(f"EVP_PKEY_sign returned {out_len.value} bytes, not {k}")
        return out.raw


def _load_pkey(lib: _Lib, private_key: rsa.RSAPrivateKey) -> int:
    """Hand the key to libcrypto as PKCS#8 DER and return the ``EVP_PKEY *``.

    The DER passes through Python briefly: ``cryptography`` returns it as an immutable ``bytes``
    object, which is copied into a ctypes buffer and dropped at once; the buffer is wiped as soon
    as libcrypto has parsed it, whether or not parsing succeeded.
    """
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    size = len(der)
    buf = ctypes.create_string_buffer(der, size)
    del der
    try:
        cursor = ctypes.c_void_p(ctypes.addressof(buf))
        # d2i_AutoPrivateKey may leave errors of the decoders it tried on the queue even when it
        # succeeds: keep them off the caller's queue (the mark is popped on success).
        lib.ERR_set_mark()
        pkey = lib.d2i_AutoPrivateKey(None, ctypes.byref(cursor), size)
        if not pkey:
            raise lib.errors("d2i_AutoPrivateKey")
        lib.ERR_pop_to_mark()
        consumed = (cursor.value or 0) - ctypes.addressof(buf)
        if consumed != size:
            lib.EVP_PKEY_free(pkey)
            raise LibcryptoError(f"d2i_AutoPrivateKey parsed {consumed} of {size} DER bytes")
        return int(pkey)
    finally:
        ctypes.memset(buf, 0, size)
