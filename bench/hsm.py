"""Wraps and unwraps per second: the local key file against a SoftHSM2 token (crypto/hsm.py).

Run from the repository root: .venv/bin/python bench/hsm.py [--count 2000]
Needs Debian's softhsm2; makes a throwaway token in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from crypto.hsm import Pkcs11Keyring, TokenLocation
from crypto.keyring import Keyring, LocalKeyring
from crypto.keys import generate_key

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
AAD = b"locker/person-key/v1:bench"


def rate(count: int, operation: object) -> float:
    assert callable(operation)
    start = time.perf_counter()
    for _ in range(count):
        operation()
    return count / (time.perf_counter() - start)


def measure(name: str, keyring: Keyring, count: int) -> None:
    key = generate_key()
    wrapped = keyring.wrap(key, AAD)
    wraps = max(rate(count, lambda: keyring.wrap(key, AAD)) for _ in range(3))
    unwraps = max(rate(count, lambda: keyring.unwrap(wrapped, AAD)) for _ in range(3))
    print(f"| {name} | {wraps:,.0f} | {unwraps:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=2000)
    count = parser.parse_args().count
    folder = Path(tempfile.mkdtemp(prefix="locker-bench-hsm-"))
    (folder / "tokens").mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {folder / 'tokens'}\nlog.level = ERROR\n")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    pin = secrets.token_hex(8)
    init = ["softhsm2-util", "--init-token", "--free", "--label", "bench"]
    subprocess.run(
        [*init, "--pin", pin, "--so-pin", secrets.token_hex(8)],
        check=True,
        capture_output=True,
    )
    (folder / "pin").write_text(pin)
    location = TokenLocation(MODULE, "bench", folder / "pin")
    token = Pkcs11Keyring(location, folder / "sidecar.json")
    token.add_master_key(1)
    token.write_sidecar(Ed25519PrivateKey.generate())
    local = LocalKeyring({1: generate_key()}, Ed25519PrivateKey.generate())
    print("| keyring | wraps/s | unwraps/s |\n|---|---|---|")
    measure("key file (LocalKeyring)", local, count)
    measure("SoftHSM2 2.6 token (Pkcs11Keyring)", token, count)


if __name__ == "__main__":
    main()
