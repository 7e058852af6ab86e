"""Detached Ed25519 signature of a bundle's manifest: whoever holds the public key can tell the manifest (and, through
its sha256 list, every file) comes from the holder of the private key."""

from __future__ import annotations

import base64
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SigningError(ValueError):
    """A key file that cannot be read as an Ed25519 key (the message names the file)."""


def generate(private_path: Path) -> Path:
    """Writes a new private key (PEM, PKCS#8) and its public key beside it (``.pub``); returns the public path."""
    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    private_path.chmod(0o600)
    public_path = private_path.with_name(private_path.name + ".pub")
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public_path


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as error:
        raise SigningError(f"{path}: not a readable unencrypted PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: not an Ed25519 key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as error:
        raise SigningError(f"{path}: not a readable PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SigningError(f"{path}: not an Ed25519 public key")
    return key


def sign(manifest: bytes, key: Ed25519PrivateKey) -> bytes:
    """The signature file's content: base64 of the raw 64-byte signature, one line."""
    return base64.b64encode(key.sign(manifest)) + b"\n"


def verify(manifest: bytes, signature_file: bytes, key: Ed25519PublicKey) -> bool:
    try:
        key.verify(base64.b64decode(signature_file.strip(), validate=True), manifest)
    except (InvalidSignature, ValueError):
        return False
    return True
