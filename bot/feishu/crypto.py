"""Verifying and decrypting Feishu event callbacks; every failure becomes one ``CallbackRejected``.

With an Encrypt Key set in the developer console, Feishu POSTs ``{"encrypt": base64(iv + AES-256-CBC(json))}``
(key = SHA-256 of the encrypt key, PKCS#7, a random 16-byte IV in front) and signs it:
``X-Lark-Signature = sha256_hex(timestamp + nonce + encrypt_key + raw body)``. Not the SDK's
``EventDispatcherHandler``: it compares signatures in variable time, has no replay window, and
``import lark_oapi`` alone takes seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

SIGNATURE = "x-lark-signature"
TIMESTAMP = "x-lark-request-timestamp"
NONCE = "x-lark-request-nonce"
MAX_SKEW_S = 3600  # as for WeCom: Feishu retries within hours, a replay is older or from the future
URL_VERIFICATION = "url_verification"
BLOCK = 16


class CallbackRejected(ValueError):
    """A callback that is not genuinely from Feishu, or not readable; answered with a 4xx."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def decrypt(encrypt_key: str, encrypted: str) -> bytes:
    """The plaintext of an ``encrypt`` field; ValueError on bad base64, length or padding."""
    raw = base64.b64decode(encrypted, validate=True)  # binascii.Error is a ValueError
    if len(raw) < 2 * BLOCK or len(raw) % BLOCK:
        raise ValueError(f"ciphertext of {len(raw)} bytes")
    key = hashlib.sha256(encrypt_key.encode()).digest()
    decryptor = Cipher(algorithms.AES(key), modes.CBC(raw[:BLOCK])).decryptor()
    padded = decryptor.update(raw[BLOCK:]) + decryptor.finalize()
    unpadder = padding.PKCS7(BLOCK * 8).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def url_challenge(payload: Mapping[str, Any]) -> str | None:
    """The challenge to echo back when ``payload`` is Feishu's check of the callback URL."""
    if payload.get("type") == URL_VERIFICATION:
        return str(payload.get("challenge", ""))
    return None


def event_type(payload: Mapping[str, Any]) -> str:
    """``im.message.receive_v1``, ``card.action.trigger``, …: from the header (2.0) or the body (1.0)."""
    header = payload.get("header")
    if isinstance(header, dict):
        return str(header.get("event_type", ""))
    event = payload.get("event")
    if isinstance(event, dict) and event.get("type"):
        return str(event["type"])
    return str(payload.get("type", ""))


def _json(data: bytes | str) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError both are
        raise CallbackRejected(f"malformed JSON: {type(exc).__name__}") from exc
    if not isinstance(value, dict):
        raise CallbackRejected("JSON body is not an object")
    return value


class FeishuCrypto:
    """Opens callbacks: signature and replay window, decryption, verification token."""

    def __init__(self, encrypt_key: str | None, verification_token: str | None, *, max_skew: float = MAX_SKEW_S):
        if not encrypt_key and not verification_token:
            raise ValueError("Feishu callbacks need an encrypt key or a verification token to be checked")
        self.encrypt_key = encrypt_key or None
        self.verification_token = verification_token or None
        self.max_skew = max_skew

    def open(self, headers: Mapping[str, str], body: bytes, now: float) -> dict[str, Any]:
        """The event (or URL check) inside a POSTed callback; ``now`` is Unix seconds."""
        lowered = {k.lower(): v for k, v in headers.items()}
        outer = _json(body)
        if self.encrypt_key is None:
            if "encrypt" in outer:
                raise CallbackRejected("encrypted callback but no encrypt key is configured")
            payload = outer
        else:
            payload = self._open_sealed(self.encrypt_key, lowered, body, outer, now)
        self._check_token(payload)
        return payload

    def _open_sealed(
        self, key: str, headers: Mapping[str, str], body: bytes, outer: dict[str, Any], now: float
    ) -> dict[str, Any]:
        encrypted = outer.get("encrypt")
        if not isinstance(encrypted, str) or not encrypted:
            raise CallbackRejected("not encrypted although an encrypt key is configured", 403)
        if SIGNATURE not in headers:
            return self._unsigned(key, encrypted)
        self._check_signature(key, headers, body, now)
        try:
            plain = decrypt(key, encrypted)
        except ValueError as exc:  # bad base64, length or padding
            raise CallbackRejected(f"cannot decrypt: {type(exc).__name__}") from exc
        return _json(plain)

    @staticmethod
    def _unsigned(key: str, encrypted: str) -> dict[str, Any]:
        """Only the URL check may come unsigned (the SDK skips its signature too). Every failure here reads
        the same, so that our answers cannot serve as a padding oracle."""
        try:
            payload = _json(decrypt(key, encrypted))
        except ValueError as exc:
            raise CallbackRejected("missing signature", 403) from exc
        if payload.get("type") != URL_VERIFICATION:
            raise CallbackRejected("missing signature", 403)
        return payload

    def _check_signature(self, key: str, headers: Mapping[str, str], body: bytes, now: float) -> None:
        timestamp, nonce, given = headers.get(TIMESTAMP, ""), headers.get(NONCE, ""), headers.get(SIGNATURE, "")
        if not timestamp.isdigit() or not nonce:
            raise CallbackRejected("missing or malformed timestamp or nonce", 403)
        if abs(now - int(timestamp)) > self.max_skew:
            raise CallbackRejected("timestamp more than an hour off", 403)  # a replayed callback
        expected = hashlib.sha256((timestamp + nonce + key).encode() + body).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.strip().lower().encode("utf-8", "replace")):
            raise CallbackRejected("bad signature", 403)

    def _check_token(self, payload: dict[str, Any]) -> None:
        """2.0 events carry the token in ``header``; the URL check and 1.0 events at the top."""
        if self.verification_token is None:
            return
        if "schema" in payload:
            header = payload.get("header")
            token = header.get("token") if isinstance(header, dict) else None
        else:
            token = payload.get("token")
        if not isinstance(token, str) or not hmac.compare_digest(
            token.encode("utf-8", "replace"), self.verification_token.encode()
        ):
            raise CallbackRejected("wrong verification token", 403)
