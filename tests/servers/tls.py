"""A self-signed TLS certificate for the test servers, made once per test session.

The certificate is its own CA: clients under test trust exactly this file
(`ssl.create_default_context(cafile=tls.ca_path)`), never the system store.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TLSFiles:
    """PEM files of one self-signed server certificate."""

    cert_path: Path
    key_path: Path

    @property
    def ca_path(self) -> Path:
        """The file clients put in `cafile=`: the self-signed certificate itself."""
        return self.cert_path


def make_self_signed_cert(
    directory: Path,
    *,
    common_name: str = "localhost",
    subject_alt_name: str = "DNS:localhost,IP:127.0.0.1",
) -> TLSFiles:
    """Write cert.pem and key.pem for localhost / 127.0.0.1 (or `subject_alt_name`, e.g.
    a name that is not the server's) into `directory`.

    Reuses the files when they already exist (generating an RSA key takes a noticeable
    fraction of a second; do it once per session).
    """
    directory.mkdir(parents=True, exist_ok=True)
    files = TLSFiles(directory / "cert.pem", directory / "key.pem")
    if files.cert_path.is_file() and files.key_path.is_file():
        return files
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("openssl is not installed: run scripts/install-test-deps.sh")
    cmd = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650"]
    cmd += ["-subj", f"/CN={common_name}"]
    cmd += ["-keyout", str(files.key_path), "-out", str(files.cert_path)]
    for extension in (
        f"subjectAltName={subject_alt_name}",
        "basicConstraints=critical,CA:TRUE",
        "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
        "extendedKeyUsage=serverAuth",
    ):
        cmd += ["-addext", extension]
    subprocess.run(
        cmd,
        check=True,
        capture_output=True,
        timeout=60,
    )
    files.key_path.chmod(0o600)
    files.cert_path.chmod(0o644)
    return files
