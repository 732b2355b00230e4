"""Verifying and decrypting WeCom callbacks; every failure becomes one ``CallbackRejected``.

wechatpy's ``WeChatCrypto`` does the AES and the signature (its PKCS#7 block is 32, as
WeCom's is). The XML around and inside is read here with defusedxml, so a DTD, an entity
expansion or an external entity is refused before anything is parsed.
"""

from __future__ import annotations

import binascii
import struct
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException


class CallbackRejected(Exception):
    """A callback that is not genuinely from WeCom, or not readable; answered with a 4xx."""

    def __init__(self, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


def parse_xml(data: bytes | str) -> dict[str, str]:
    """A flat ``<xml>`` document as a dict; DTDs and entities are refused."""
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CallbackRejected(f"forbidden XML construct: {type(exc).__name__}") from exc
    except (ElementTree.ParseError, ValueError, TypeError) as exc:
        raise CallbackRejected(f"malformed XML: {exc}") from exc
    if root.tag != "xml":
        raise CallbackRejected("root element is not <xml>")
    return {child.tag: (child.text or "") for child in root}


class CallbackCrypto:
    def __init__(self, token: str, aes_key: str, corp_id: str) -> None:
        self._crypto = WeChatCrypto(token, aes_key, corp_id)

    def verify_url(self, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
        """The plaintext of ``echostr`` for WeCom's URL check."""
        return self._run(self._crypto.check_signature, signature, timestamp, nonce, echostr)

    def decrypt(self, body: bytes, signature: str, timestamp: str, nonce: str) -> dict[str, str]:
        """The inner message of a POSTed callback, as a dict of its fields."""
        outer = parse_xml(body)
        if not outer.get("Encrypt"):
            raise CallbackRejected("missing <Encrypt>")
        inner = self._run(self._crypto.decrypt_message, {"Encrypt": outer["Encrypt"]}, signature, timestamp, nonce)
        return parse_xml(inner.encode("utf-8"))

    @staticmethod
    def _run(fn: Any, *args: Any) -> str:
        try:
            return str(fn(*args))
        except InvalidSignatureException as exc:
            raise CallbackRejected("bad signature", 403) from exc
        except InvalidCorpIdException as exc:
            raise CallbackRejected("wrong corp id", 403) from exc
        except (binascii.Error, struct.error, UnicodeDecodeError, ValueError, IndexError, KeyError, TypeError) as exc:
            # a wrong key with a valid signature decrypts to junk: UnicodeDecodeError, bad padding, a length
            # field past the end (struct.error), …
            raise CallbackRejected(f"cannot decrypt: {type(exc).__name__}") from exc
        except Exception as exc:  # anything else the library raises on hostile input is still the sender's fault
            raise CallbackRejected(f"cannot decrypt: {type(exc).__name__}") from exc
