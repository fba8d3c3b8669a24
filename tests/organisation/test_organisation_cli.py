"""`locker invite-professional` and `locker deactivate-professional`."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.conftest import PASSWORD
from tests.test_cli import run


def test_invite_then_deactivate_from_the_command_line(tmp_path: Path) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path / "var")}
    assert run(env, "init").returncode == 0
    org = json.loads(run(env, "create-org", "CCAS de Lyon").stdout)
    made = run(
        env,
        "invite-professional",
        "--org",
        org["id"],
        "--email",
        "new@ccas.example",
        "--name",
        "Mme Neuve",
        "--role",
        "org_admin",
        "--base-url",
        "https://coffre.example",
    )
    assert made.returncode == 0, made.stderr
    invited = json.loads(made.stdout)
    url = urlsplit(invited["invitation_url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "coffre.example", "/invitation")
    assert len(parse_qs(url.query)["token"][0]) == 43
    off = run(env, "deactivate-professional", invited["id"])
    # The last admin of the organisation cannot be switched off.
    assert off.returncode == 1 and "last_org_admin" in off.stderr
    other = run(
        env,
        "create-professional",
        "--org",
        org["id"],
        "--email",
        "second@ccas.example",
        "--name",
        "M. Second",
        "--role",
        "org_admin",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert other.returncode == 0
    off = run(env, "deactivate-professional", invited["id"])
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout) == {"id": invited["id"], "deactivated": True}
    missing = run(env, "deactivate-professional", "00000000-0000-4000-8000-000000000000")
    assert missing.returncode == 1


def test_set_an_organisation_siret_from_the_command_line(tmp_path: Path) -> None:
    env = {"LOCKER_DATA_DIR": str(tmp_path / "var")}
    assert run(env, "init").returncode == 0
    org = json.loads(run(env, "create-org", "CHRS Les Tilleuls").stdout)
    other = json.loads(run(env, "create-org", "CCAS").stdout)
    made = run(env, "set-org-siret", org["id"], "732 829 320 00074")
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) == {"id": org["id"], "siret": "73282932000074"}
    # Two organisations never share one; a wrong check digit is refused.
    taken = run(env, "set-org-siret", other["id"], "73282932000074")
    assert taken.returncode == 1 and "already_exists" in taken.stderr
    wrong = run(env, "set-org-siret", other["id"], "73282932000075")
    assert wrong.returncode == 1 and "invalid_input" in wrong.stderr
    cleared = run(env, "set-org-siret", org["id"], "--clear")
    assert json.loads(cleared.stdout) == {"id": org["id"], "siret": None}
    assert run(env, "set-org-siret", org["id"]).returncode != 0  # a SIRET or --clear
    pro = run(
        env,
        "create-professional",
        "--org",
        org["id"],
        "--email",
        "camille@tilleuls.example",
        "--name",
        "Camille",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    pro_id = json.loads(pro.stdout)["id"]
    unlinked = run(env, "unlink-proconnect", pro_id)
    assert json.loads(unlinked.stdout) == {"id": pro_id, "proconnect": "unlinked"}
    missing = run(env, "unlink-proconnect", "0" * 36)
    assert missing.returncode == 1 and "not_found" in missing.stderr
