"""The domains of the web layer: each brings its pages and its API routes, and `web.app`
registers every domain alike (its `locker` commands, in its own `cli` module, `web.cli`
registers without loading the pages and routes)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint

from web.accounts import api as accounts_api
from web.accounts import pages as accounts_pages
from web.audit import api as audit_api
from web.audit import pages as audit_pages
from web.counter import api as counter_api
from web.counter import pages as counter_pages
from web.documents import api as documents_api
from web.documents import pages as documents_pages
from web.organisation import api as organisation_api
from web.organisation import pages as organisation_pages
from web.packs import api as packs_api
from web.packs import pages as packs_pages
from web.sharing import api as sharing_api
from web.sharing import pages as sharing_pages


@dataclass(frozen=True)
class Domain:
    api: Blueprint
    pages: Blueprint


DOMAINS = (
    Domain(accounts_api.api, accounts_pages.pages),
    Domain(documents_api.api, documents_pages.pages),
    Domain(sharing_api.api, sharing_pages.pages),
    Domain(audit_api.api, audit_pages.pages),
    Domain(packs_api.api, packs_pages.pages),
    Domain(counter_api.api, counter_pages.pages),
    Domain(organisation_api.api, organisation_pages.pages),
)
