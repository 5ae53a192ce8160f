#!/usr/bin/env python3
"""Install the browser packages of package-lock.json without Node.js (production machines).

    python3 scripts/fetch_browser_packages.py [DEST]   # DEST defaults to ./node_modules

Only the packages the app serves are installed, not the development ones (`"dev": true`).
Each package's tarball comes from the npm registry and must match the sha512 `integrity`
recorded in package-lock.json, else nothing is written. The result is the layout
`npm ci` makes, which is what the app serves from (promkm_qr/asn/photos.py).
"""

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "https://registry.npmjs.org"


def tarball_url(name: str, version: str) -> str:
    """The registry URL of an unscoped or scoped package's tarball."""
    return f"{REGISTRY}/{name}/-/{name.rsplit('/', 1)[-1]}-{version}.tgz"


def fetch(path: str, entry: dict, dest: Path) -> None:
    """Download, verify and unpack one package into dest/<its path under node_modules>."""
    name = path.rsplit("node_modules/", 1)[-1]
    url = entry.get("resolved") or tarball_url(name, entry["version"])
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (fixed https URL)
        data = response.read()
    algorithm, _, expected = entry["integrity"].partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        sys.exit(f"{name} {entry['version']}: checksum mismatch, nothing installed")
    target = dest / path.removeprefix("node_modules/")
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for member in archive.getmembers():
            if not member.isfile():
                continue
            relative = Path(member.name).relative_to("package")
            if ".." in relative.parts:
                sys.exit(f"{name}: unsafe path {member.name} in the tarball")
            path = target / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.extractfile(member).read())
    print(f"{name} {entry['version']} ({entry.get('license', '?')}) -> {target}")


def main() -> None:
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "node_modules"
    lock = json.loads((ROOT / "package-lock.json").read_text())
    for path, entry in lock["packages"].items():
        # Development packages (the page checkers of the tests) never go on a server.
        if path.startswith("node_modules/") and not entry.get("dev"):
            fetch(path, entry, dest)


if __name__ == "__main__":
    main()
