"""`make run PORT=...` serves on that port and prints QR codes pointing at it, in every process."""

import os
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _started(tmp_path: Path, **env: str) -> dict[str, list[str]]:
    """The port and QR host each process of `make run` gets, with env as the person's.

    make -n prints the command `make run` starts the processes with; it runs here, as make
    would run it, on a Procfile whose processes print what they were given.
    """
    environ = {k: v for k, v in os.environ.items() if k not in ("PORT", "PUBLIC_BASE_URL")}
    environ.update(env)
    out = subprocess.run(
        ["make", "-n", "run"], cwd=ROOT, env=environ, capture_output=True, text=True
    ).stdout
    line = next(line for line in out.splitlines() if "honcho" in line)
    procfile = tmp_path / "Procfile"
    procfile.write_text(
        "".join(f'{name}: echo "{name} $PORT $PUBLIC_BASE_URL"\n' for name in ("web", "worker"))
    )
    argv = shlex.split(line.replace("-f Procfile", f"-f {procfile}"))
    while "=" in argv[0]:  # the line's leading VAR=value words
        key, value = argv.pop(0).split("=", 1)
        environ[key] = value
    out = subprocess.run(argv, cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60)
    started = {}
    for row in out.stdout.splitlines():
        name, *given = row.split("|", 1)[-1].split()
        started[name] = [*given, "", ""][:2]  # a variable not set prints nothing
    return started


def test_another_port_moves_the_qr_host_for_every_process(tmp_path):
    started = _started(tmp_path, PORT="8123")
    assert started["web"] == ["8123", "http://127.0.0.1:8123"]
    # honcho hands the worker a port of its own (8223); its QR codes still use the web's.
    assert started["worker"] == ["8223", "http://127.0.0.1:8123"]


def test_a_set_public_base_url_wins(tmp_path):
    started = _started(tmp_path, PORT="8123", PUBLIC_BASE_URL="https://promkm.example.go.id")
    assert started["web"] == ["8123", "https://promkm.example.go.id"]
    assert started["worker"][1] == "https://promkm.example.go.id"
