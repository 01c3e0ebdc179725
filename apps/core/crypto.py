"""Protection for sensitive values: reversible encryption and a keyed blind index.

Encryption uses Fernet (AES-128-CBC + HMAC) from ``cryptography`` with a list of keys so keys
can be rotated. The blind index is an HMAC-SHA256 of the normalised value under a separate key,
so equality and uniqueness can be checked without storing the value in the clear.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _derive(purpose: str) -> bytes:
    return hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        keys = (base64.urlsafe_b64encode(_derive("field-encryption")).decode(),)
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(value: str) -> str:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("protected value cannot be decrypted with the configured keys") from exc


def blind_index(value: str) -> str:
    key = settings.BLIND_INDEX_KEY.encode() or _derive("blind-index")
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask(value: str, *, keep_start: int = 4, keep_end: int = 4) -> str:
    """``420106199001011234`` -> ``4201**********1234``."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    tail = value[len(value) - keep_end :]  # not value[-keep_end:]: -0 would keep everything
    return f"{value[:keep_start]}{'*' * hidden}{tail}"
