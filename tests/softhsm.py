"""A real PKCS#11 token for the tests: SoftHSM2 (Debian's softhsm2), one throwaway token
per test in a token folder of the test session's own (SOFTHSM2_CONF).

Without SoftHSM2 the tests that need it skip, or fail in strict mode.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pkcs11
import pytest

from crypto.hsm import TokenLocation
from locker.key_provider import provision_key_provider
from locker.settings import Settings

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
STRICT = os.environ.get("LOCKER_TEST_STRICT") == "1" or os.environ.get("CI") == "true"


@pytest.fixture(scope="session")
def softhsm_conf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A SoftHSM2 configuration whose token folder belongs to this test session."""
    if not MODULE.is_file() or shutil.which("softhsm2-util") is None:
        reason = f"SoftHSM2 is not installed ({MODULE}, softhsm2-util: Debian's softhsm2)"
        if STRICT:
            pytest.fail(f"strict mode: {reason}")
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    # Read by the module when it is initialised: set before this process first loads it.
    os.environ["SOFTHSM2_CONF"] = str(conf)
    yield conf
    if previous is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = previous


def new_token(conf: Path, pin_dir: Path) -> TokenLocation:
    """A freshly initialised token with a random label and user PIN (its PIN file 0600)."""
    label = f"locker-{secrets.token_hex(6)}"
    pin = secrets.token_hex(8)
    init = ["softhsm2-util", "--init-token", "--free", "--label", label]
    subprocess.run(
        [*init, "--pin", pin, "--so-pin", secrets.token_hex(8)],
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        check=True,
        capture_output=True,
        timeout=60,
    )
    pin_file = pin_dir / f"{label}.pin"
    pin_file.write_text(pin + "\n")
    pin_file.chmod(0o600)
    # The module lists tokens when initialised: initialise it again to see the new one.
    pkcs11.lib(str(MODULE)).reinitialize()
    return TokenLocation(MODULE, label, pin_file)


@pytest.fixture
def hsm_token(softhsm_conf: Path, tmp_path: Path) -> TokenLocation:
    """A new, empty SoftHSM2 token for one test."""
    return new_token(softhsm_conf, tmp_path)


@pytest.fixture
def hsm_settings(settings: Settings, hsm_token: TokenLocation) -> Settings:
    """The stack's settings with the master keys in a provisioned token."""
    result = replace(settings, pkcs11=hsm_token)
    provision_key_provider(result)
    return result
