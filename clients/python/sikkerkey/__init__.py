"""SikkerKey client for Python: signed reads of secrets from a SikkerKey vault.

Example::

    from sikkerkey import Client
    secret = Client("https://vault.example.com:8200", key_file="/etc/app/vault.key").get("shop", "db")
"""
from .client import Client, Secret, encode_segment
from .errors import SikkerKeyError
from .signing import SignerKey, key_id_from_public_key, read_private_key_file, sign_request

__all__ = ["Client", "Secret", "SikkerKeyError", "SignerKey", "encode_segment", "key_id_from_public_key", "read_private_key_file", "sign_request"]
__version__ = "0.1.0"
