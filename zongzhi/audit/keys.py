"""The audit's two keys, kept outside the database (see docs/audit.md).

ZONGZHI_AUDIT_KEY             base64 of 32 random bytes: the HMAC-SM3 key of the chain; in dev var/audit_key
ZONGZHI_AUDIT_KEY_ID          the label of that key written into each entry (default a1)
ZONGZHI_AUDIT_KEYS_RETIRED    id=base64,…: older chain keys, still used to verify the entries they made
ZONGZHI_AUDIT_SIGNING_KEY     base64 of a 32-byte Ed25519 private key that signs the checkpoints;
                              in dev var/audit_signing_key
ZONGZHI_AUDIT_VERIFY_KEYS     base64 of older signing keys' public keys, comma separated, still accepted

The chain key never signs a checkpoint, and a checkpoint's signature is checked with a public key: a
receiver of the checkpoints holds nothing that lets it forge one.
"""

import base64
import functools
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from zongzhi.crypto import decode_key, dev_key_file

_KEY_ID = re.compile(r"[a-z0-9]{1,16}")
_NEW_KEY_HINT = "python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'"


@dataclass(frozen=True)
class ChainKeys:
    """The key that chains new entries and every key an entry of the log may carry."""

    current: str
    keys: dict[str, bytes]


@dataclass(frozen=True)
class SigningKeys:
    """The checkpoint signer and every public key a checkpoint may be signed with, by key id."""

    private: Ed25519PrivateKey
    key_id: str
    public: dict[str, Ed25519PublicKey]


def _encoded(variable: str, prod: bool, var_dir: str, dev_file: str) -> str:
    encoded = os.environ.get(variable, "")
    if encoded:
        return encoded
    if prod:
        raise ImproperlyConfigured(
            f"{variable} must be set when ZONGZHI_ENV=prod (audit log); make one with: {_NEW_KEY_HINT}"
        )
    return dev_key_file(Path(var_dir) / dev_file)


def public_key_id(public: Ed25519PublicKey) -> str:
    """A checkpoint signer's name: the first 16 hex digits of the SM3 of its raw public key."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.new("sm3", raw).hexdigest()[:16]


def public_key_text(public: Ed25519PublicKey) -> str:
    """The raw public key in base64, as the receiver of the checkpoints configures it."""
    return base64.b64encode(public.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def parse_public_keys(text: str) -> dict[str, Ed25519PublicKey]:
    """Public keys given as comma-separated base64 (ZONGZHI_AUDIT_VERIFY_KEYS), by key id."""
    found: dict[str, Ed25519PublicKey] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        public = Ed25519PublicKey.from_public_bytes(decode_key(item, "ZONGZHI_AUDIT_VERIFY_KEYS"))
        found[public_key_id(public)] = public
    return found


@functools.lru_cache(maxsize=8)
def _chain_keys(prod: bool, var_dir: str, encoded: str, key_id: str, retired: str) -> ChainKeys:
    if not _KEY_ID.fullmatch(key_id):
        raise ImproperlyConfigured("ZONGZHI_AUDIT_KEY_ID must be 1-16 lowercase letters or digits, e.g. a2")
    keys = {
        key_id: decode_key(encoded or _encoded("ZONGZHI_AUDIT_KEY", prod, var_dir, "audit_key"), "ZONGZHI_AUDIT_KEY")
    }
    for item in filter(None, (part.strip() for part in retired.split(","))):
        old_id, _, old_key = item.partition("=")
        if not _KEY_ID.fullmatch(old_id) or old_id in keys:
            raise ImproperlyConfigured(
                "ZONGZHI_AUDIT_KEYS_RETIRED must read a1=<base64>,a0=<base64>, each id once and not the current one"
            )
        keys[old_id] = decode_key(old_key, f"ZONGZHI_AUDIT_KEYS_RETIRED[{old_id}]")
    return ChainKeys(key_id, keys)


def chain_keys() -> ChainKeys:
    """The chain's keys (read on each call, cached by value, so environment overrides take effect)."""
    return _chain_keys(
        bool(settings.PROD),
        str(settings.VAR_DIR),
        os.environ.get("ZONGZHI_AUDIT_KEY", ""),
        os.environ.get("ZONGZHI_AUDIT_KEY_ID", "a1"),
        os.environ.get("ZONGZHI_AUDIT_KEYS_RETIRED", ""),
    )


@functools.lru_cache(maxsize=8)
def _signing_keys(prod: bool, var_dir: str, encoded: str, older: str) -> SigningKeys:
    seed = decode_key(
        encoded or _encoded("ZONGZHI_AUDIT_SIGNING_KEY", prod, var_dir, "audit_signing_key"),
        "ZONGZHI_AUDIT_SIGNING_KEY",
    )
    private = Ed25519PrivateKey.from_private_bytes(seed)
    key_id = public_key_id(private.public_key())
    return SigningKeys(private, key_id, {**parse_public_keys(older), key_id: private.public_key()})


def signing_keys() -> SigningKeys:
    """The checkpoint signer (read on each call, cached by value)."""
    signing = _signing_keys(
        bool(settings.PROD),
        str(settings.VAR_DIR),
        os.environ.get("ZONGZHI_AUDIT_SIGNING_KEY", ""),
        os.environ.get("ZONGZHI_AUDIT_VERIFY_KEYS", ""),
    )
    if signing.private.private_bytes_raw() in chain_keys().keys.values():
        raise ImproperlyConfigured("ZONGZHI_AUDIT_SIGNING_KEY must not be a chain key (ZONGZHI_AUDIT_KEY)")
    return signing


def fingerprints() -> dict[str, str]:
    """Each chain key's id → the first 16 hex digits of a keyed SHA-256 of it (tells keys apart, reveals nothing)."""
    return {
        key_id: hmac.new(b"zongzhi audit key fingerprint", key, hashlib.sha256).hexdigest()[:16]
        for key_id, key in sorted(chain_keys().keys.items())
    }


def signature_valid(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@checks.register(checks.Tags.security, deploy=True)
def check_audit_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`check --deploy` fails when an audit key is missing or malformed."""
    try:
        chain_keys()
        signing_keys()
    except (ImproperlyConfigured, ValueError) as error:
        return [checks.Error(str(error), id="zongzhi.E002")]
    return []
