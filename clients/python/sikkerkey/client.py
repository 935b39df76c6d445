"""The signed HTTP client for applications written in Python.

Example::

    from sikkerkey import Client
    vault = Client("https://vault.example.com:8200", key_file="/etc/app/vault.key")
    db = vault.get("shop", "db")            # Secret(project, name, version, value, fields)
    password = db.fields["password"]
    for db in vault.watch("shop", "db"):    # now, then each newer version
        pool.reconfigure(db.fields)

    Client("unix:/run/sikkerkey/vault.sock", key_file=...)                    # a local vault's socket
    Client("https://vault:8200", key_file=..., ca_file="ca.pem", pin_sha256="…=")  # a private CA, a pinned key
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import os
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlsplit

from .errors import SikkerKeyError
from .signing import SignerKey, json_body, read_private_key_file, sign_request

MAX_RESPONSE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Secret:
    """What a machine reads: a plain ``value`` or a structured secret's granted ``fields``."""
    project: str
    name: str
    version: int
    value: Optional[str] = None
    fields: Optional[Dict[str, str]] = field(default=None)
    #: The vault asks that this value be kept no longer than its use (a secret under an access
    #: policy): do not write it to a cache.
    no_store: bool = False


def encode_segment(s: str) -> str:
    """One path segment, percent-encoded like JavaScript's encodeURIComponent (plus `.`/`..`)."""
    if s in (".", ".."):
        return s.replace(".", "%2E")
    return quote(s, safe="!'()*-._~")


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _secret(body: object) -> Secret:
    b = body if isinstance(body, dict) else {}
    fields = b.get("fields")
    ok = (isinstance(b.get("project"), str) and isinstance(b.get("name"), str) and isinstance(b.get("version"), int)
          and (b.get("value") is None or isinstance(b.get("value"), str))
          and (fields is None or (isinstance(fields, dict) and all(isinstance(v, str) for v in fields.values()))))
    if not ok:
        raise SikkerKeyError("SK_ERR_RESPONSE", "the vault answered a secret read with an unexpected shape")
    return Secret(b["project"], b["name"], b["version"], b.get("value"), dict(fields) if fields is not None else None, b.get("noStore") is True)


def _parse_pin(text: str, name: str) -> bytes:
    try:
        pin = base64.b64decode(text, validate=True)
    except ValueError:
        pin = b""
    if len(pin) != 32 or base64.b64encode(pin).decode("ascii") != text:
        raise SikkerKeyError("SK_ERR_CONFIG", f"{name} must be the base64 SHA-256 (32 bytes) of the certificate's SPKI")
    return pin


def _spki_sha256(der_cert: bytes) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    spki = x509.load_der_x509_certificate(der_cert).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()


class _UnixConnection(http.client.HTTPConnection):
    """HTTP over a unix socket (the vault's ``--listen unix:PATH``)."""

    def __init__(self, path: str, timeout: float):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Client:
    """A client for one vault, signing every request with this machine's Ed25519 key.

    ``url`` is ``https://host[:port]``, ``http://`` to a loopback address, or ``unix:/path.sock``
    (signed for ``localhost`` unless ``authority`` says otherwise). For https only: ``ca_file``
    adds a CA (PEM) to the system ones, and ``pin_sha256`` (base64 SHA-256 of the certificate's
    SubjectPublicKeyInfo) is checked after normal verification, before any request is sent; their
    defaults are the ``SIKKERKEY_CA_FILE`` and ``SIKKERKEY_PIN_SHA256`` environment variables, as
    for every SikkerKey client.
    """

    def __init__(self, url: str, key_file: Optional[str] = None, *, key: Optional[SignerKey] = None,
                 ca_file: Optional[str] = None, pin_sha256: Optional[str] = None, timeout: float = 30.0,
                 authority: Optional[str] = None, env: Optional[Dict[str, str]] = None):
        if key is None and key_file is None:
            raise SikkerKeyError("SK_ERR_CONFIG", "a signing key is required: give key_file or key")
        self._key = key if key is not None else read_private_key_file(key_file)  # type: ignore[arg-type]
        self._timeout = timeout
        self._ssl: Optional[ssl.SSLContext] = None
        self._pin: Optional[bytes] = _parse_pin(pin_sha256, "pin_sha256") if pin_sha256 is not None else None
        self._unix: Optional[str] = None
        self._https = False
        if url.startswith("unix:"):
            path = url[len("unix:"):]
            if not path:
                raise SikkerKeyError("SK_ERR_CONFIG", "a unix: URL needs a socket path (unix:/run/sikkerkey.sock)")
            if self._pin is not None or ca_file is not None:
                raise SikkerKeyError("SK_ERR_CONFIG", "ca_file and pin_sha256 apply to https:// only")
            self._unix = path
            self._host, self._port = "localhost", 0
            self.authority = (authority or "localhost").lower()
            return
        u = urlsplit(url)
        if u.scheme not in ("https", "http") or not u.hostname:
            raise SikkerKeyError("SK_ERR_CONFIG", "the vault URL must be https://host[:port] (or http:// to a loopback address)")
        if u.path not in ("", "/") or u.query or u.fragment or u.username or u.password:
            raise SikkerKeyError("SK_ERR_CONFIG", "the vault URL must be scheme://host[:port] without a path, query, fragment or credentials")
        if u.scheme == "http" and not _is_loopback(u.hostname):
            raise SikkerKeyError("SK_ERR_INSECURE_TRANSPORT", f"refused before connecting: plain http:// is allowed only to loopback addresses; use https://{u.netloc}")
        self._https = u.scheme == "https"
        self._host = u.hostname
        self._port = u.port or (443 if self._https else 80)
        default_port = 443 if self._https else 80
        host = f"[{u.hostname}]" if ":" in u.hostname else u.hostname
        self.authority = (authority or (host if self._port == default_port else f"{host}:{self._port}")).lower()
        if not self._https:
            if self._pin is not None or ca_file is not None:
                raise SikkerKeyError("SK_ERR_CONFIG", "ca_file and pin_sha256 apply to https:// only")
            return
        # The environment's defaults apply to https:// only, as in the Node client.
        environ = os.environ if env is None else env
        ca = ca_file if ca_file is not None else (environ.get("SIKKERKEY_CA_FILE") or None)
        if self._pin is None and environ.get("SIKKERKEY_PIN_SHA256"):
            self._pin = _parse_pin(environ["SIKKERKEY_PIN_SHA256"], "SIKKERKEY_PIN_SHA256")
        ctx = ssl.create_default_context()
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if ca:
            try:
                ctx.load_verify_locations(cafile=ca)
            except (OSError, ssl.SSLError):
                raise SikkerKeyError("SK_ERR_CONFIG", f"cannot read CA file {ca}{'' if ca_file is not None else ' (from SIKKERKEY_CA_FILE)'}") from None
        self._ssl = ctx

    def _check_pin(self, conn: http.client.HTTPSConnection) -> None:
        """After the handshake (CA and host name already verified), before a byte of the request."""
        if self._pin is None:
            return
        der = conn.sock.getpeercert(binary_form=True) if conn.sock is not None else None  # type: ignore[union-attr]
        seen = _spki_sha256(der) if der else b""
        if not hmac.compare_digest(seen, self._pin):
            raise SikkerKeyError("SK_ERR_TLS_PIN", f"the vault's certificate is trusted but its key (SPKI sha256 {base64.b64encode(seen).decode('ascii')}) does not match the pinned pin_sha256")

    def request(self, method: str, target: str, body: object = None, *, timeout: Optional[float] = None) -> Tuple[int, object]:
        """One signed request; returns (status, parsed JSON) for 2xx and 304, raises SikkerKeyError otherwise."""
        payload = b"" if body is None else json_body(body)
        headers = sign_request(method, self.authority, target, payload, "application/json" if payload else None, self._key)
        headers.update({"accept": "application/json", "user-agent": "sikkerkey-python/0.1", "host": self.authority})
        if payload or method not in ("GET", "HEAD"):
            headers["content-length"] = str(len(payload))
        t = self._timeout if timeout is None else timeout
        conn: http.client.HTTPConnection
        if self._unix is not None:
            conn = _UnixConnection(self._unix, t)
        elif self._https:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=t, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=t)
        try:
            if isinstance(conn, http.client.HTTPSConnection):
                conn.connect()
                self._check_pin(conn)
            conn.request(method, target, body=payload or None, headers=headers)
            res = conn.getresponse()
            raw = res.read(MAX_RESPONSE_BYTES + 1)
            status = res.status
        except ssl.SSLCertVerificationError as err:
            raise SikkerKeyError("SK_ERR_TLS_CERT", f"the vault's certificate failed verification: {err.verify_message}") from None
        except (OSError, http.client.HTTPException, socket.timeout) as err:
            raise SikkerKeyError("SK_ERR_CONNECT", f"the vault could not be reached ({type(err).__name__})") from None
        finally:
            conn.close()
        if len(raw) > MAX_RESPONSE_BYTES:
            raise SikkerKeyError("SK_ERR_RESPONSE", "the vault's answer is too large")
        parsed: object = None
        if raw:
            try:
                parsed = json.loads(raw.decode("utf-8"))
            except ValueError:
                raise SikkerKeyError("SK_ERR_RESPONSE", f"the vault answered HTTP {status} with a body that is not JSON", status) from None
        if 200 <= status < 300 or status == 304:
            return status, parsed
        error = parsed.get("error") if isinstance(parsed, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str) and error["code"].startswith("SK_ERR_"):
            details = {k: v for k, v in error.items() if k not in ("code", "message")}
            raise SikkerKeyError(error["code"], str(error.get("message", f"HTTP {status}")), status, details)
        raise SikkerKeyError("SK_ERR_RESPONSE", f"the vault answered HTTP {status} without an error this client knows", status)

    def get(self, project: str, name: str, *, version: Optional[int] = None) -> Secret:
        """Reads a secret (the live version, or ``version`` if it was ever live)."""
        query = "" if version is None else f"?version={int(version)}"
        _, body = self.request("GET", f"/v1/projects/{encode_segment(project)}/secrets/{encode_segment(name)}{query}")
        return _secret(body)

    def get_many(self, items: Sequence[Union[Tuple[str, str], Tuple[str, str, int]]]) -> List[Union[Secret, SikkerKeyError]]:
        """Many reads under one signature (``POST /v1/secrets:batchGet``, up to 100): a Secret or a SikkerKeyError per item, in order."""
        body = {"items": [{"project": i[0], "name": i[1], **({"version": i[2]} if len(i) > 2 else {})} for i in items]}
        _, answer = self.request("POST", "/v1/secrets:batchGet", body)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(items):
            raise SikkerKeyError("SK_ERR_RESPONSE", "the vault answered a batch read with an unexpected shape")
        out: List[Union[Secret, SikkerKeyError]] = []
        for r in results:
            if isinstance(r, dict) and r.get("status") == 200:
                out.append(_secret(r))
            else:
                err = r.get("error", {}) if isinstance(r, dict) else {}
                out.append(SikkerKeyError(str(err.get("code", "SK_ERR_RESPONSE")), str(err.get("message", "")), r.get("status") if isinstance(r, dict) else None))
        return out

    def watch(self, project: str, name: str, *, wait: int = 30, after_version: int = 0, stop=None) -> Iterator[Secret]:
        """Yields the live value now, then each newer version as it becomes live (one signed
        long-poll per wait). A refusal (no grant, machine disabled) ends it with SikkerKeyError;
        network faults are retried with backoff. ``stop`` is an optional callable: True ends it."""
        target = f"/v1/projects/{encode_segment(project)}/secrets/{encode_segment(name)}"
        after = after_version
        backoff = 0.25
        while not (stop and stop()):
            try:
                status, body = self.request("GET", f"{target}?waitForVersionAfter={after}&wait={int(wait)}", timeout=wait + 15)
            except SikkerKeyError as err:
                if err.status is not None and err.status < 500 and err.code != "SK_ERR_RATE_LIMITED":
                    raise
                time.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.25
            if status == 304:
                continue
            secret = _secret(body)
            after = secret.version
            yield secret
