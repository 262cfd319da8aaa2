"""Ed25519 signatures over a manifest's ``signed_payload()``: who may publish what agents run.

The publisher holds the private key (PEM, PKCS#8, a private file); agents hold the public key
(``ARC_TRUST_KEY``: the base64 of the 32 raw bytes, or a PEM file). ``cryptography`` is imported
only here, only when signing or verifying.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from typing import Callable, Tuple

from .errors import ArtifactRejected, RegistryError

PREFIX = "ed25519:"


def generate(private_path: str) -> str:
    """Write a new private key to ``private_path`` (0600, never replacing a file) and return the
    public key as ``ARC_TRUST_KEY`` takes it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return public_text(key.public_key())


def public_text(public_key) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def signer(private_path: str) -> Callable[[bytes], str]:
    """A function signing payloads with the private key in ``private_path``; RegistryError if unusable."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        st = os.stat(private_path)
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise RegistryError(f"signing key {private_path} is readable by other users; chmod 600 it")
        with open(private_path, "rb") as fh:
            key = serialization.load_pem_private_key(fh.read(64 << 10), password=None)
    except OSError as exc:
        raise RegistryError(f"signing key {private_path}: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise RegistryError(f"signing key {private_path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise RegistryError(f"signing key {private_path}: not an Ed25519 key")
    return lambda payload: PREFIX + base64.b64encode(key.sign(payload)).decode("ascii")


def load_public(text: str) -> Tuple[object, str]:
    """(public key, its base64 text) from ``ARC_TRUST_KEY``: base64 of 32 raw bytes, or a PEM file path."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    text = text.strip()
    if os.path.isfile(text):
        try:
            with open(text, "rb") as fh:
                key = serialization.load_pem_public_key(fh.read(64 << 10))
        except (OSError, ValueError) as exc:
            raise RegistryError(f"trust key {text}: not a PEM public key ({exc})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise RegistryError(f"trust key {text}: not an Ed25519 key")
        return key, public_text(key)
    try:
        raw = base64.b64decode(text.removeprefix(PREFIX), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw), text
    except (binascii.Error, ValueError):
        raise RegistryError("trust key: neither a PEM file nor the base64 of a 32-byte Ed25519 public key") from None


def verify(public_key, payload: bytes, signature: str | None, where: str) -> None:
    """ArtifactRejected unless ``signature`` is ``public_key``'s signature of ``payload``."""
    from cryptography.exceptions import InvalidSignature

    if not signature:
        raise ArtifactRejected(f"{where}: not signed (publish it with --sign-key)")
    if not signature.startswith(PREFIX):
        raise ArtifactRejected(f"{where}: signature is not {PREFIX}<base64>")
    try:
        public_key.verify(base64.b64decode(signature[len(PREFIX):], validate=True), payload)
    except (InvalidSignature, binascii.Error, ValueError):
        raise ArtifactRejected(f"{where}: signature does not verify with the trusted key (ARC_TRUST_KEY): "
                               "tampered, or signed by another key") from None
