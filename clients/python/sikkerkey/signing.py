"""SikkerKey's RFC 9421 profile (docs/protocol.md): one signature labelled ``sk``, Ed25519,
covering ``"@method" "@authority" "@path" "@query" "content-digest"`` and, with a body,
``"content-type"``; parameters created, expires, nonce, keyid, alg="ed25519", tag="sikkerkey/v1".

Example::

    headers = sign_request("GET", "vault.example.com:8200", "/v1/projects/p/secrets/s", b"", None, key)
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import stat
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .errors import SikkerKeyError

LABEL = "sk"
TAG = "sikkerkey/v1"
ALG = "ed25519"
DEFAULT_LIFETIME_SECONDS = 30
MAX_LIFETIME_SECONDS = 60
NONCE_BYTES = 32


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_id_from_public_key(raw: bytes) -> str:
    """RFC 7638 thumbprint: base64url SHA-256 of {"crv":"Ed25519","kty":"OKP","x":"…"}."""
    if len(raw) != 32:
        raise SikkerKeyError("SK_ERR_PUBLIC_KEY", "an Ed25519 public key is 32 bytes")
    jwk = '{"crv":"Ed25519","kty":"OKP","x":"%s"}' % b64url(raw)
    return b64url(hashlib.sha256(jwk.encode("utf-8")).digest())


@dataclass(frozen=True)
class SignerKey:
    key_id: str
    private_key: Ed25519PrivateKey

    @staticmethod
    def from_pem(pem: bytes) -> "SignerKey":
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except Exception as err:  # the library raises several types for malformed input
            raise SikkerKeyError("SK_ERR_KEY_FILE", "the key is not a PKCS#8 PEM private key") from err
        if not isinstance(key, Ed25519PrivateKey):
            raise SikkerKeyError("SK_ERR_KEY_FILE", "the key is not an Ed25519 private key")
        raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return SignerKey(key_id_from_public_key(raw), key)


def read_private_key_file(path: str) -> SignerKey:
    """Reads a machine key (PKCS#8 PEM); refuses one that group or others may access, like the Node client."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as err:
        raise SikkerKeyError("SK_ERR_KEY_FILE", f"cannot read key file {path} ({err.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if mode & 0o077:
            raise SikkerKeyError("SK_ERR_KEY_FILE", f"key file {path} has mode {stat.S_IMODE(mode):04o}: group or others can access it; run chmod 600 {path}")
        with os.fdopen(os.dup(fd), "rb") as f:
            pem = f.read()
    finally:
        os.close(fd)
    return SignerKey.from_pem(pem)


def content_digest(body: bytes) -> str:
    return "sha-256=:%s:" % base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def _sf_string(s: str) -> str:
    """An RFC 8941 sf-string (printable ASCII; `"` and `\\` escaped)."""
    if any(ord(c) < 0x20 or ord(c) > 0x7E for c in s):
        raise SikkerKeyError("SK_ERR_SIGNATURE_NON_ASCII", "a signature parameter must be printable ASCII")
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def signature_params(covered: List[str], params: List[Tuple[str, object]]) -> str:
    """The inner list `("a" "b");k=v…` (integers bare, strings as sf-strings), in the given order."""
    inner = "(" + " ".join(_sf_string(c) for c in covered) + ")"
    for name, value in params:
        inner += ";%s=%s" % (name, value if isinstance(value, int) else _sf_string(str(value)))
    return inner


def signature_base(components: List[Tuple[str, str]], params: str) -> str:
    lines = ["%s: %s" % (_sf_string(name), value) for name, value in components]
    lines.append('"@signature-params": %s' % params)
    return "\n".join(lines)


def split_target(target: str) -> Tuple[str, str]:
    if not target.startswith("/") or "#" in target:
        raise SikkerKeyError("SK_ERR_BAD_REQUEST", "the request target must be origin-form: /path[?query]")
    path, q, query = target.partition("?")
    return path, "?" + query if q else "?"


def sign_request(method: str, authority: str, target: str, body: bytes, content_type: Optional[str], key: SignerKey,
                 *, created: Optional[int] = None, nonce: Optional[str] = None, lifetime: int = DEFAULT_LIFETIME_SECONDS) -> Dict[str, str]:
    """The headers to add to a request: content-digest, signature-input, signature (and content-type with a body)."""
    if not 1 <= lifetime <= MAX_LIFETIME_SECONDS:
        raise SikkerKeyError("SK_ERR_SIGNATURE_LIFETIME", "the signature lifetime must be 1-60 whole seconds")
    if body and not content_type:
        raise SikkerKeyError("SK_ERR_BAD_REQUEST", "a request with a body needs a content type")
    path, query = split_target(target)
    created = int(time.time()) if created is None else created
    nonce = b64url(secrets.token_bytes(NONCE_BYTES)) if nonce is None else nonce
    digest = content_digest(body)
    components = [("@method", method.upper()), ("@authority", authority.lower()), ("@path", path), ("@query", query), ("content-digest", digest)]
    if body:
        components.append(("content-type", content_type.strip()))  # type: ignore[union-attr]
    params = signature_params([n for n, _ in components], [
        ("created", created), ("expires", created + lifetime), ("nonce", nonce), ("keyid", key.key_id), ("alg", ALG), ("tag", TAG),
    ])
    base = signature_base(components, params)
    sig = key.private_key.sign(base.encode("ascii"))
    headers = {
        "content-digest": digest,
        "signature-input": "%s=%s" % (LABEL, params),
        "signature": "%s=:%s:" % (LABEL, base64.b64encode(sig).decode("ascii")),
    }
    if body:
        headers["content-type"] = content_type.strip()  # type: ignore[union-attr]
    return headers


def json_body(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")
