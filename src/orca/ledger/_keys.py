"""Ed25519 signing keys under ``<home>/ledger/keys/``.

The private key is created on first use with owner-only permissions (0600,
in a 0700 directory). A key is named by its id, the first 16 hex chars of
SHA-256 over the raw public key; every signature records the id, so keys can
rotate and old signatures still verify against the old public key, which
stays in ``<kid>.pub``. Verification trusts exactly the public keys it is
given (by default the home's ``*.pub``); a signature by any other key is an
"unknown key", whatever else it says.
"""

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from orca.journal import fsync_dir

ACTIVE = "active"


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` (never widening an existing file), durably."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


class Signer:
    """The active private key: signs batch and checkpoint messages."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id(self.public)

    def sign(self, message: bytes) -> str:
        return self._private.sign(message).hex()


def keys_dir(ledger_dir: Path) -> Path:
    return ledger_dir / "keys"


def load_or_create_signer(ledger_dir: Path) -> Signer:
    """The active key, created (0600) on first use."""
    kdir = keys_dir(ledger_dir)
    kdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    active = kdir / ACTIVE
    if active.exists():
        kid = active.read_text().strip()
        raw = bytes.fromhex((kdir / f"{kid}.key").read_text().strip())
        return Signer(Ed25519PrivateKey.from_private_bytes(raw))
    return rotate(ledger_dir)


def rotate(ledger_dir: Path) -> Signer:
    """Make a new active key; the old public keys stay trusted for old signatures."""
    kdir = keys_dir(ledger_dir)
    kdir.mkdir(mode=0o700, parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    signer = Signer(private)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    _write_new(kdir / f"{signer.key_id}.key", raw.hex().encode() + b"\n", 0o600)
    pub = signer.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    _write_new(kdir / f"{signer.key_id}.pub", pub.hex().encode() + b"\n", 0o644)
    _write_new(kdir / ACTIVE, signer.key_id.encode() + b"\n", 0o600)
    return signer


class TrustedKeys:
    """Public keys a verifier trusts, by key id."""

    def __init__(self, keys: dict[str, Ed25519PublicKey] | None = None) -> None:
        self.keys: dict[str, Ed25519PublicKey] = dict(keys or {})

    @classmethod
    def from_dir(cls, directory: Path) -> "TrustedKeys":
        """Every ``*.pub`` (hex of the raw 32-byte key) in ``directory``; the id is recomputed."""
        out: dict[str, Ed25519PublicKey] = {}
        if directory.is_dir():
            for path in sorted(directory.glob("*.pub")):
                try:
                    pub = Ed25519PublicKey.from_public_bytes(
                        bytes.fromhex(path.read_text().strip())
                    )
                except ValueError:
                    continue  # not a key: ignored, and signatures by it show as unknown
                out[key_id(pub)] = pub
        return cls(out)

    def __contains__(self, kid: str) -> bool:
        return kid in self.keys

    def verify(self, kid: str, signature_hex: str, message: bytes) -> bool:
        """True when the known key ``kid`` signed ``message``; False for a bad signature."""
        try:
            self.keys[kid].verify(bytes.fromhex(signature_hex), message)
        except (InvalidSignature, ValueError):
            return False
        return True
