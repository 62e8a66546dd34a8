"""Schemathesis, in process, against the app's own OpenAPI document: for every operation it
generates requests that fit the document and requests that do not (wrong types, missing fields,
odd strings, ids out of range), sends them with a resident's or a staff member's token, and
fails on any 5xx, any status the document does not declare for the operation, and any answer
that does not match its declared schema (errors: the one error shape)."""
import itertools
import zlib

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import checks

from app.extensions import db as _db
from tests import factories

EXAMPLES = 12  # per operation and mode; the whole module runs in well under a minute on 2 cores

CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]


@pytest.fixture()
def people(app, db, login):
    """Real objects for the generated ids to land on: a compound with a grid, its committee member
    and grid worker, a bound owner, an open consultation with a paper ballot, a pending binding."""
    from app.services import ballots as ballot_service

    n = next(_names)  # WeChat limits logins of one person a minute: each operation has its own people
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    building = comp.buildings[0]
    grid = factories.grid(comp, [building])
    committee = factories.staff(f"st-committee{n}", "committee", "compound", comp.id)
    gw = factories.staff(f"st-grid{n}", "grid_worker", "grid", grid.id)
    flats = building.units[0].flats
    factories.resident(f"st-owner{n}", flats[0])
    c = factories.consultation(("compound", comp), by=committee)
    ballot_service.enter_paper(gw, c.id, flats[1].id, "agree", factories.signature_png())
    _db.session.commit()
    return {"staff": login(f"st-committee{n}"), "grid": login(f"st-grid{n}"), "resident": login(f"st-owner{n}")}


def _load_schema():
    """The document as the app serves it. (Loaded at collection, from an app of its own: the
    calls then go to the test session's app, whose answers the no_secrets_leak guard reads.
    schemathesis.pytest.from_fixture would do this lazily but does not run under pytest 9.)"""
    from app import create_app

    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_app("testing")).exclude(
        path="/api/v1/auth/logout"  # would end the very sessions the other calls use
    )


schema = _load_schema()
_names = itertools.count(1)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate], database=None,
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_5xx_or_an_undeclared_answer(case, app, people):
    # Who asks is drawn from the request itself, so that a failing example replays as it ran.
    seed = zlib.crc32(repr((case.path_parameters, case.query, case.body)).encode("utf-8", "surrogatepass"))
    who = ("resident", "staff", "grid")[seed % 3]
    case.call_and_validate(app=app, headers=people[who], checks=CHECKS)
