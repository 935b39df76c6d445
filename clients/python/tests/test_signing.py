"""The signing profile against known answers: RFC 9421 Appendix B.2.6 (the shared vectors) and the
worked examples of docs/protocol.md §8, byte for byte."""
import base64
import hashlib
import json
import os
import unittest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sikkerkey.signing import SignerKey, content_digest, key_id_from_public_key, sign_request, signature_base, signature_params

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))


def vectors_dir() -> str:
    """SK_VECTORS_DIR, else ../shared/vectors beside the checkout, else the copy in test/vectors."""
    for d in (os.environ.get("SK_VECTORS_DIR"), os.path.join(REPO, "..", "shared", "vectors"), os.path.join(REPO, "test", "vectors")):
        if d and os.path.exists(os.path.join(d, "rfc9421-b26-ed25519.json")):
            return d
    raise unittest.SkipTest("no rfc9421-b26-ed25519.json found")


def doc_key():
    """The published example key of docs/protocol.md §8 (it protects nothing), made as the doc says:
    its Ed25519 seed is the SHA-256 of the phrase the doc gives. Returned as PKCS#8 PEM."""
    with open(os.path.join(REPO, "docs", "protocol.md"), encoding="utf-8") as f:
        text = f.read()
    phrase = text.split("<!-- example:test-key-phrase -->", 1)[1].split("```", 2)[1].strip()
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(phrase.encode("ascii")).digest())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


DOC_KEY = doc_key()


class RfcVector(unittest.TestCase):
    def test_reproduces_rfc9421_b26_signature_base_and_signature(self):
        with open(os.path.join(vectors_dir(), "rfc9421-b26-ed25519.json"), encoding="utf-8") as f:
            v = json.load(f)
        req = v["request"]
        headers = {k.lower(): val for k, val in req["headers"].items()}
        path, _, _ = req["target"].partition("?")
        values = {"@method": req["method"], "@path": path, "@authority": req["authority"]}
        components = [(c, values[c] if c.startswith("@") else headers[c]) for c in v["covered"]]
        params = signature_params(v["covered"], [("created", v["params"]["created"]), ("keyid", v["params"]["keyid"])])
        self.assertEqual("%s=%s" % (v["label"], params), v["signatureInput"])
        base = signature_base(components, params)
        self.assertEqual(base, v["signatureBase"])
        key = serialization.load_pem_private_key(v["privateKeyPem"].encode(), password=None)
        sig = base64.b64encode(key.sign(base.encode("ascii"))).decode()
        self.assertEqual("%s=:%s:" % (v["label"], sig), v["signature"])

    def test_key_id_is_the_rfc7638_thumbprint(self):
        with open(os.path.join(vectors_dir(), "rfc9421-b26-ed25519.json"), encoding="utf-8") as f:
            v = json.load(f)
        raw = base64.urlsafe_b64decode(v["publicKeyRawBase64url"] + "=")
        self.assertEqual(len(key_id_from_public_key(raw)), 43)
        self.assertEqual(SignerKey.from_pem(DOC_KEY).key_id, "lHPG8XTEmXDO7iQmWpeLsfN55smIaut-KcXLxjkG0k8")


class DocExamples(unittest.TestCase):
    def test_protocol_doc_8_1_request_with_body_and_query(self):
        body = b'{"value":"example-not-a-secret"}'
        h = sign_request("PUT", "vault.example.com:8200", "/v1/projects/payments/secrets/db%20main?dryRun=true", body, "application/json",
                         SignerKey.from_pem(DOC_KEY), created=1767225600, nonce="3YDZO58EJMBoadllbc4qkMDzoXB7VNatHQqW1OSPROg")
        self.assertEqual(h["content-digest"], "sha-256=:MrDCCPA9INn9Im90Dy44/h9rFkvrEj8HSrFblMrFunQ=:")
        self.assertEqual(h["signature-input"], 'sk=("@method" "@authority" "@path" "@query" "content-digest" "content-type");created=1767225600;expires=1767225630;nonce="3YDZO58EJMBoadllbc4qkMDzoXB7VNatHQqW1OSPROg";keyid="lHPG8XTEmXDO7iQmWpeLsfN55smIaut-KcXLxjkG0k8";alg="ed25519";tag="sikkerkey/v1"')
        self.assertEqual(h["signature"], "sk=:AIxHNnBHSbIBJ48qPoqsG/+tNYuRuyujDG8DOgZ8D4ouziT9nQSlAtOCu+ikqUKrrY5GiFf+xbD12MXeCkqaBQ==:")
        self.assertEqual(h["content-type"], "application/json")

    def test_protocol_doc_8_2_bodiless_request(self):
        h = sign_request("GET", "vault.example.com:8200", "/v1/projects/payments/secrets/db%20main", b"", None,
                         SignerKey.from_pem(DOC_KEY), created=1767225600, nonce="OMRn-oSJoYYy7U-rwD0kUEJezRRQPEpSvjp2wqXh0wI")
        self.assertEqual(h["signature"], "sk=:spJtOPWsfDyfWUmpHesJ6yKzgvR7GAOf5PGRbV+jvgorYoW3/msFslr18RVuGfNicictonGEs0QydFd2lflBAg==:")
        self.assertNotIn("content-type", h)

    def test_rfc9530_digest_known_answers(self):
        self.assertEqual(content_digest(b'{"hello": "world"}'), "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")
        self.assertEqual(content_digest(b""), "sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")


if __name__ == "__main__":
    unittest.main()
