"""Encryption at rest: round trips, tamper detection, keys from the environment, blind indexes, the field."""

import base64
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from zongzhi import crypto
from zongzhi.crypto import DecryptionError, EncryptedTextField, blind_index, check_data_key, decrypt, encrypt

RESIDENT_ID = "15250219900101008X"
PHONE = "13812345678"


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@pytest.fixture(autouse=True)
def data_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """Each test runs under its own key, as production would (never the developer's var/data_key)."""
    key = new_key()
    monkeypatch.setenv("ZONGZHI_DATA_KEY", key)
    monkeypatch.delenv("ZONGZHI_DATA_KEY_VERSION", raising=False)
    monkeypatch.delenv("ZONGZHI_DATA_KEYS_RETIRED", raising=False)
    return key


# Encryption


@given(plaintext=st.text())
def test_round_trip(plaintext: str) -> None:
    assert decrypt(encrypt(plaintext)) == plaintext


def test_token_names_key_version_and_algorithm() -> None:
    token = encrypt(RESIDENT_ID)
    assert token.startswith(f"v1:{crypto.ALGORITHM}:")
    assert crypto.ALGORITHM in ("sm4gcm", "aes256gcm")


def test_each_encryption_of_the_same_value_differs() -> None:
    tokens = {encrypt(RESIDENT_ID) for _ in range(20)}
    assert len(tokens) == 20
    assert {decrypt(token) for token in tokens} == {RESIDENT_ID}


@pytest.mark.parametrize("plaintext", [RESIDENT_ID, PHONE, "内蒙古自治区锡林浩特市"])
def test_token_shows_no_part_of_the_plaintext(plaintext: str) -> None:
    token = encrypt(plaintext)
    # Six characters: shorter runs of digits turn up in random base64 by chance.
    pieces = {plaintext[i : i + 6] for i in range(max(1, len(plaintext) - 5))}
    assert not any(piece in token for piece in pieces)


def flip(token: str, position: int) -> str:
    """Change one byte of the sealed payload (editing a base64 character can land in padding bits)."""
    header, _, body = token.rpartition(":")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[position] ^= 0x01
    encoded = base64.urlsafe_b64encode(bytes(raw)).decode()
    return f"{header}:{encoded if body.endswith('=') else encoded.rstrip('=')}"


@pytest.mark.parametrize("position", [0, 12, -1])  # nonce, ciphertext, tag
def test_a_changed_byte_is_refused(position: int) -> None:
    token = encrypt(RESIDENT_ID)
    with pytest.raises(DecryptionError, match="fails authentication"):
        decrypt(flip(token, position))


def test_relabelling_the_algorithm_is_refused() -> None:
    token = encrypt(RESIDENT_ID)
    other = "aes256gcm" if crypto.ALGORITHM == "sm4gcm" else "sm4gcm"
    with pytest.raises(DecryptionError):
        decrypt(token.replace(crypto.ALGORITHM, other, 1))


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("v1:sm4gcm:", "truncated"),
        ("v1:sm4gcm:!!!not base64!!!", "truncated"),
        ("v1:rot13:AAAA", "unknown encryption algorithm"),
        ("v9:sm4gcm:AAAA", "no data key of version 'v9'"),
        (RESIDENT_ID, "not an encrypted token"),
    ],
)
def test_malformed_tokens_are_refused_clearly(token: str, message: str) -> None:
    with pytest.raises(DecryptionError, match=message) as caught:
        decrypt(token)
    assert token not in str(caught.value)  # a value that was plaintext after all must not reach the logs


def test_another_key_cannot_decrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    token = encrypt(RESIDENT_ID)
    monkeypatch.setenv("ZONGZHI_DATA_KEY", new_key())
    with pytest.raises(DecryptionError, match="fails authentication"):
        decrypt(token)


def test_rotation_keeps_old_tokens_readable(monkeypatch: pytest.MonkeyPatch, data_key: str) -> None:
    old_token = encrypt(RESIDENT_ID)
    monkeypatch.setenv("ZONGZHI_DATA_KEY", new_key())
    monkeypatch.setenv("ZONGZHI_DATA_KEY_VERSION", "v2")
    monkeypatch.setenv("ZONGZHI_DATA_KEYS_RETIRED", f"v1={data_key}")
    assert decrypt(old_token) == RESIDENT_ID
    new_token = encrypt(RESIDENT_ID)
    assert new_token.startswith("v2:") and decrypt(new_token) == RESIDENT_ID


# Keys


def test_prod_refuses_to_work_without_a_key(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.PROD = True
    monkeypatch.delenv("ZONGZHI_DATA_KEY")
    with pytest.raises(ImproperlyConfigured, match="ZONGZHI_DATA_KEY must be set"):
        encrypt(RESIDENT_ID)
    with pytest.raises(ImproperlyConfigured):
        blind_index(RESIDENT_ID)
    assert [error.id for error in check_data_key()] == ["zongzhi.E001"]


def test_prod_works_with_a_key(settings: Any) -> None:
    settings.PROD = True
    assert decrypt(encrypt(PHONE)) == PHONE
    assert check_data_key() == []


@pytest.mark.parametrize("bad", ["not base64", base64.b64encode(bytes(16)).decode()])
def test_a_malformed_key_is_refused(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("ZONGZHI_DATA_KEY", bad)
    with pytest.raises(ImproperlyConfigured, match="32 random bytes in base64"):
        encrypt(RESIDENT_ID)


def test_dev_key_is_made_once_and_readable_by_the_owner_only(
    settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings.PROD = False
    settings.VAR_DIR = tmp_path
    monkeypatch.delenv("ZONGZHI_DATA_KEY")
    token = encrypt(RESIDENT_ID)
    key_file = tmp_path / "data_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(base64.b64decode(key_file.read_text())) == 32
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data_key"]
    crypto._load_keyring.cache_clear()  # as a restarted process would
    assert decrypt(token) == RESIDENT_ID


# Blind index


def test_blind_index_is_stable_and_normalized() -> None:
    index = blind_index(RESIDENT_ID)
    assert len(index) == 64 and int(index, 16) >= 0
    assert blind_index(RESIDENT_ID) == index
    assert blind_index(" １５２５０２ 19900101 008x ") == index


def test_blind_index_differs_by_value_and_by_key(monkeypatch: pytest.MonkeyPatch) -> None:
    index = blind_index(RESIDENT_ID)
    assert blind_index(PHONE) != index
    assert blind_index("152502199001010085") != index
    monkeypatch.setenv("ZONGZHI_DATA_KEY", new_key())
    assert blind_index(RESIDENT_ID) != index


def test_blind_index_is_not_a_plain_hash() -> None:
    import hashlib

    assert blind_index(RESIDENT_ID) != hashlib.new(crypto.BLIND_INDEX_HASH, RESIDENT_ID.encode()).hexdigest()


# The model field, without a model: what Django calls on save and on load.


def test_field_stores_tokens_and_gives_back_plaintext() -> None:
    field = EncryptedTextField("证件号码", blank=True)
    stored = field.get_prep_value(RESIDENT_ID)
    assert stored.startswith("v1:") and RESIDENT_ID not in stored
    assert field.from_db_value(stored, None, None) == RESIDENT_ID
    assert field.to_python(RESIDENT_ID) == RESIDENT_ID


@pytest.mark.parametrize("empty", [None, ""])
def test_field_keeps_none_and_empty_as_they_are(empty: str | None) -> None:
    field = EncryptedTextField(null=True, blank=True)
    assert field.get_prep_value(empty) == empty
    assert field.from_db_value(empty, None, None) == empty


def test_field_deconstructs_for_migrations() -> None:
    field = EncryptedTextField("联系电话", blank=True)
    field.set_attributes_from_name("phone")
    name, path, args, kwargs = field.deconstruct()
    assert (name, path) == ("phone", "zongzhi.crypto.EncryptedTextField")
    assert kwargs == {"verbose_name": "联系电话", "blank": True}
    assert isinstance(EncryptedTextField(*args, **kwargs), EncryptedTextField)


def test_field_allows_only_isnull_lookups() -> None:
    """Equal plaintexts give different tokens, so filtering on the column must go through a blind index."""
    field = EncryptedTextField()
    assert field.get_lookup("isnull") is not None
    assert field.get_lookup("exact") is None
    assert field.get_lookup("icontains") is None
