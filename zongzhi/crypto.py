"""Encryption at rest of personal identifiers (resident IDs, phones): PIPL, 等保 2.0 level 3.

ZONGZHI_DATA_KEY           base64 of 32 random bytes; required in prod, kept in var/data_key in dev
ZONGZHI_DATA_KEY_VERSION   the label of that key written into each token (default v1)
ZONGZHI_DATA_KEYS_RETIRED  comma-separated version=base64 keys still accepted for decryption during rotation

A token reads "<key version>:<algorithm>:<base64 of nonce + ciphertext + tag>"; see docs/crypto.md.
"""

import base64
import binascii
import functools
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import models

SM4_GCM, AES_256_GCM = "sm4gcm", "aes256gcm"
_KEY_BYTES = {SM4_GCM: 16, AES_256_GCM: 32}
_NONCE_BYTES, _TAG_BYTES = 12, 16
_VERSION = re.compile(r"[a-z0-9]{1,16}")
_WHITESPACE = re.compile(r"\s+")
_NEW_KEY_HINT = "python -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())'"


class DecryptionError(ValueError):
    """A token that cannot be decrypted: damaged, tampered with, or made with a key this server lacks."""


def _sm4_gcm_available() -> bool:
    # SM4 needs an OpenSSL built with it; the cryptography wheels ship one, a distribution's build may not.
    try:
        encryptor = Cipher(algorithms.SM4(bytes(16)), modes.GCM(bytes(_NONCE_BYTES))).encryptor()
        encryptor.update(b"probe")
        encryptor.finalize()
    except (UnsupportedAlgorithm, ValueError):
        return False
    return True


ALGORITHM = SM4_GCM if _sm4_gcm_available() else AES_256_GCM
# HMAC-SM3 through Python's own OpenSSL. Changing the hash changes every blind index: decide once per deployment.
BLIND_INDEX_HASH = "sm3" if "sm3" in hashlib.algorithms_available else "sha256"


# Keys


@dataclass(frozen=True)
class _Keyring:
    version: str  # of the key that encrypts
    keys: dict[str, bytes]  # version -> 32-byte data key, the current one and the retired ones
    index_key: bytes


def decode_key(encoded: str, name: str) -> bytes:
    """32 key bytes from their base64 (environment or key file); refused with how to make one."""
    try:
        key = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must be 32 random bytes in base64; make one with: {_NEW_KEY_HINT}")
    return key


def dev_key_file(path: Path) -> str:
    """A per-machine development key in `path` (base64 of 32 random bytes), made once, mode 0600.

    Written aside, then linked into place: the link fails if another process got there first, and
    nobody ever reads a half-written file."""
    if not path.exists():
        draft = path.with_name(f"{path.name}.{secrets.token_hex(8)}")
        draft.touch(mode=0o600)
        draft.write_text(base64.b64encode(secrets.token_bytes(32)).decode())
        try:
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    return path.read_text()


def _dev_data_key(var_dir: Path) -> str:
    return dev_key_file(var_dir / "data_key")


def _derive(key: bytes, label: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=label.encode()).derive(key)


@functools.lru_cache(maxsize=8)
def _load_keyring(prod: bool, var_dir: str, encoded: str, version: str, retired: str) -> _Keyring:
    if not encoded:
        if prod:
            raise ImproperlyConfigured(
                f"ZONGZHI_DATA_KEY must be set when ZONGZHI_ENV=prod (encryption of personal data); "
                f"make one with: {_NEW_KEY_HINT}"
            )
        encoded = _dev_data_key(Path(var_dir))
    if not _VERSION.fullmatch(version):
        raise ImproperlyConfigured("ZONGZHI_DATA_KEY_VERSION must be 1-16 lowercase letters or digits, e.g. v2")
    keys = {version: decode_key(encoded, "ZONGZHI_DATA_KEY")}
    for item in filter(None, (part.strip() for part in retired.split(","))):
        old_version, _, old_key = item.partition("=")
        if not _VERSION.fullmatch(old_version) or old_version in keys:
            raise ImproperlyConfigured(
                "ZONGZHI_DATA_KEYS_RETIRED must read v1=<base64>,v0=<base64>, each version once and not the current one"
            )
        keys[old_version] = decode_key(old_key, f"ZONGZHI_DATA_KEYS_RETIRED[{old_version}]")
    return _Keyring(version, keys, _derive(keys[version], "zongzhi blind index", 32))


def _keyring() -> _Keyring:
    # Read on each call (cheap, cached by value) so settings and environment overrides in tests take effect.
    return _load_keyring(
        bool(settings.PROD),
        str(settings.VAR_DIR),
        os.environ.get("ZONGZHI_DATA_KEY", ""),
        os.environ.get("ZONGZHI_DATA_KEY_VERSION", "v1"),
        os.environ.get("ZONGZHI_DATA_KEYS_RETIRED", ""),
    )


@checks.register(checks.Tags.security, deploy=True)
def check_data_key(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """`check --deploy` fails when the data key is missing or malformed."""
    try:
        _keyring()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="zongzhi.E001")]
    return []


# Encryption


@functools.lru_cache(maxsize=16)
def _cipher_key(data_key: bytes, algorithm: str) -> bytes:
    # One subkey per algorithm, so the same data key never serves two ciphers.
    return _derive(data_key, f"zongzhi data encryption {algorithm}", _KEY_BYTES[algorithm])


@functools.lru_cache(maxsize=16)
def _aes(key: bytes) -> AESGCM:
    # Stateless between calls (each takes its own nonce), so one object serves every value of a key.
    return AESGCM(key)


@functools.lru_cache(maxsize=16)
def _sm4(key: bytes) -> algorithms.SM4:
    return algorithms.SM4(key)


def _seal(algorithm: str, key: bytes, nonce: bytes, plaintext: bytes, header: bytes) -> bytes:
    if algorithm == AES_256_GCM:
        return _aes(key).encrypt(nonce, plaintext, header)
    encryptor = Cipher(_sm4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(header)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _open(algorithm: str, key: bytes, nonce: bytes, sealed: bytes, header: bytes) -> bytes:
    if algorithm == AES_256_GCM:
        return _aes(key).decrypt(nonce, sealed, header)
    ciphertext, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
    decryptor = Cipher(_sm4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(header)
    return decryptor.update(ciphertext) + decryptor.finalize()


def encrypt(plaintext: str) -> str:
    """The authenticated, randomly-nonced token of `plaintext` under the current data key."""
    keyring = _keyring()
    header = f"{keyring.version}:{ALGORITHM}"
    nonce = secrets.token_bytes(_NONCE_BYTES)
    key = _cipher_key(keyring.keys[keyring.version], ALGORITHM)
    # The header is authenticated too: a token cannot be relabelled to another key or algorithm.
    sealed = _seal(ALGORITHM, key, nonce, plaintext.encode(), header.encode())
    return f"{header}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(token: str) -> str:
    """The plaintext of a token made by `encrypt`; raises DecryptionError when it is damaged or tampered with."""
    return _decrypt(_keyring().keys, token)


def decryptor() -> Callable[[str], str]:
    """`decrypt` with the keyring read once: for a batch (an export decrypts half a million tokens).

    Reading the keyring (settings and three environment variables) was a third of each `decrypt`."""
    return functools.partial(_decrypt, _keyring().keys)


def _decrypt(keys: dict[str, bytes], token: str) -> str:
    version, algorithm, body = (token.split(":", 2) + ["", ""])[:3]
    if not _VERSION.fullmatch(version):
        # Never echo the value: it may be plaintext personal data that reached here by mistake.
        raise DecryptionError("not an encrypted token (expected <key version>:<algorithm>:<base64>)")
    if version not in keys:
        raise DecryptionError(f"no data key of version {version!r} on this server (current and retired keys only)")
    if algorithm not in _KEY_BYTES:
        raise DecryptionError(f"unknown encryption algorithm {algorithm!r}")
    try:
        raw = base64.urlsafe_b64decode(body.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) < _NONCE_BYTES + _TAG_BYTES:
        raise DecryptionError("the encrypted value is truncated or not base64")
    try:
        plaintext = _open(
            algorithm,
            _cipher_key(keys[version], algorithm),
            raw[:_NONCE_BYTES],
            raw[_NONCE_BYTES:],
            f"{version}:{algorithm}".encode(),
        )
    except InvalidTag:
        raise DecryptionError("the encrypted value fails authentication: tampered with, or a different key") from None
    except UnsupportedAlgorithm:
        raise DecryptionError(f"{algorithm} is not available in this server's OpenSSL") from None
    return plaintext.decode()


# Lookup


def _canonical(value: str) -> str:
    # Frozen on purpose: any change here changes every stored blind index. NFKC folds full-width characters.
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", value)).upper()


def blind_index(value: str) -> str:
    """The keyed hash (hex) of the normalized value, stored beside its token for exact-match lookup."""
    return hmac.new(_keyring().index_key, _canonical(value).encode(), BLIND_INDEX_HASH).hexdigest()


# Model field


class EncryptedTextField(models.TextField):
    """A text column holding `encrypt` tokens, plaintext in Python; None and "" are stored as they are.

    Only `isnull` lookups are allowed: a random nonce makes equal plaintexts differ, so an `exact` filter
    would silently match nothing. Look up by a `blind_index` column instead.
    """

    description = "Encrypted text"

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str) -> Any:
        return None


def key_fingerprints() -> dict[str, str]:
    """Each configured data key's version → the first 16 hex digits of a keyed SHA-256 of it.

    Enough to tell whether a backup and a server hold the same keys; nothing about the key itself.
    """
    keyring = _keyring()
    return {
        version: hmac.new(b"zongzhi key fingerprint", key, hashlib.sha256).hexdigest()[:16]
        for version, key in sorted(keyring.keys.items())
    }
