"""The domains of the web layer: each brings its pages, its API routes and its commands,
and `web.app` and `web.cli` register every domain alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import click
from flask import Blueprint

from web.accounts import api as accounts_api
from web.accounts import cli as accounts_cli
from web.accounts import pages as accounts_pages
from web.audit import api as audit_api
from web.audit import cli as audit_cli
from web.audit import pages as audit_pages
from web.counter import api as counter_api
from web.counter import pages as counter_pages
from web.documents import api as documents_api
from web.documents import cli as documents_cli
from web.documents import pages as documents_pages
from web.organisation import api as organisation_api
from web.organisation import cli as organisation_cli
from web.organisation import pages as organisation_pages
from web.packs import api as packs_api
from web.packs import pages as packs_pages
from web.sharing import api as sharing_api
from web.sharing import cli as sharing_cli
from web.sharing import pages as sharing_pages


@dataclass(frozen=True)
class Domain:
    api: Blueprint
    pages: Blueprint
    commands: Sequence[click.Command]


DOMAINS = (
    Domain(accounts_api.api, accounts_pages.pages, accounts_cli.commands),
    Domain(documents_api.api, documents_pages.pages, documents_cli.commands),
    Domain(sharing_api.api, sharing_pages.pages, sharing_cli.commands),
    Domain(audit_api.api, audit_pages.pages, audit_cli.commands),
    Domain(packs_api.api, packs_pages.pages, ()),
    Domain(counter_api.api, counter_pages.pages, ()),
    Domain(organisation_api.api, organisation_pages.pages, organisation_cli.commands),
)
