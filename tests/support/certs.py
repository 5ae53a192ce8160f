"""A certificate authority of a test's own and server certificates it signs (openssl)."""

import subprocess
from pathlib import Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _key(path: Path) -> None:
    _openssl(
        "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path)
    )


def certificate_authority(folder: Path, name: str = "Test CA") -> tuple[Path, Path]:
    """A new CA: its certificate (the PEM file a client trusts) and its key."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "ca.pem", folder / "ca.key"
    _key(key)
    _openssl("req", "-x509", "-new", "-key", str(key), "-days", "2", "-subj", f"/CN={name}",
             "-out", str(cert))  # fmt: skip
    return cert, key


def server_certificate(
    folder: Path, ca: tuple[Path, Path], names: str = "DNS:localhost,IP:127.0.0.1"
) -> tuple[Path, Path]:
    """A server certificate for `names` (subjectAltName) signed by `ca`, and its key."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key, request = folder / "server.pem", folder / "server.key", folder / "server.csr"
    extensions = folder / "server.ext"
    extensions.write_text(
        f"subjectAltName={names}\nbasicConstraints=CA:FALSE\n"
        "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n"
    )
    _key(key)
    _openssl("req", "-new", "-key", str(key), "-subj", "/CN=server", "-out", str(request))
    _openssl("x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
             "-CAcreateserial", "-days", "2", "-extfile", str(extensions),
             "-out", str(cert))  # fmt: skip
    return cert, key
