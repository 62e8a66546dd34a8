"""Can anyone make the API answer 500, or store half of a bad request? Written as the attacker:
each request is one a script kiddie, a fuzzer or a broken client sends, and each must get its exact
status and error code, in Chinese, with nothing written."""
import inspect
import itertools
import json
import re
from datetime import datetime

import pytest
from apiflask import APIBlueprint
from marshmallow import fields as ma_fields
from marshmallow import validate

import app.api  # noqa: F401  (the API's messages and fields)
from app.api import inputs
from app.errors import ApiError
from app.extensions import db as _db
from app.models import Ballot, Binding, Consultation, Street
from tests import factories

CJK = re.compile("[\u4e00-\u9fff]")
_names = itertools.count(1)


@pytest.fixture()
def place(app, db, login):
    """A compound with a committee member, a bound owner and an open consultation over it."""
    n = next(_names)  # WeChat limits logins of one person a minute: each test has its own people
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    factories.staff(f"committee{n}", "committee", "compound", comp.id)
    flat = comp.buildings[0].units[0].flats[0]
    factories.resident(f"owner{n}", flat)
    c = factories.consultation(("compound", comp))
    _db.session.commit()
    return {"compound": comp, "flat": flat, "consultation": c,
            "committee": login(f"committee{n}"), "owner": login(f"owner{n}")}


def counts():
    _db.session.expire_all()
    return {m.__name__: _db.session.scalar(_db.select(_db.func.count()).select_from(m))
            for m in (Consultation, Ballot, Binding)}


def consultation_body(comp, **extra):
    return {"scope": {"type": "compound", "id": comp.id}, "title": "加装电梯", "body": "是否同意",
            "kind": "elevator", "closes_at": "2030-01-01T12:00:00+08:00", **extra}


def post(client, url, body, headers=None):
    """POST body as JSON with ASCII escapes, as any client may write it (a lone surrogate included)."""
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def assert_error(resp, status, code):
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    error = resp.json["error"]
    assert error["code"] == code
    assert CJK.search(error["message"]), error["message"]
    assert isinstance(error["details"], dict)
    return error


# ---------------------------------------------------------------- bodies that are not JSON

NOT_JSON = {
    "malformed": '{"scope": ',
    "100,000 nested [": "[" * 100_000,
    "100,000 nested {": '{"a":' * 100_000,
    "balanced but 50,000 deep": "[" * 50_000 + "]" * 50_000,
    "not UTF-8": b'{"title": "\xff\xfe"}',
    "NaN": '{"scope": NaN}',
    "Infinity": '{"closes_at": -Infinity}',
    "an integer of 5,000 digits": '{"title": ' + "9" * 5000 + "}",
    "trailing garbage": '{"title": "a"} x',
}


@pytest.mark.parametrize("raw", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_is_a_400(client, place, raw):
    before = counts()
    resp = client.post("/api/v1/consultations", data=raw, content_type="application/json",
                       headers=place["committee"])
    assert_error(resp, 400, "invalid_json")
    assert counts() == before


def test_a_body_over_the_limit_is_a_413(app, client, place):
    before = counts()
    photo = "A" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    resp = client.post(f"/api/v1/consultations/{place['consultation'].id}/ballots", headers=place["owner"],
                       json={"flat_id": place["flat"].id, "choice": "agree", "signature": photo})
    assert_error(resp, 413, "too_large")
    assert counts() == before


def test_a_json_array_instead_of_an_object_is_a_422(client, place):
    resp = client.post("/api/v1/consultations", json=[consultation_body(place["compound"])], headers=place["committee"])
    error = assert_error(resp, 422, "validation_error")
    assert error["details"]["json"]["_schema"] == ["应为 JSON 对象"]
    assert counts()["Consultation"] == 1  # the fixture's


def test_an_unknown_field_is_refused_in_chinese(client, place):
    resp = client.post("/api/v1/consultations", json=consultation_body(place["compound"], status="published"),
                       headers=place["committee"])
    error = assert_error(resp, 422, "validation_error")
    assert error["details"]["json"] == {"status": ["不认识的字段"]}
    assert counts()["Consultation"] == 1


# ---------------------------------------------------------------- integers

NOT_AN_ID = {"1.5": 1.5, '"1"': "1", "true": True, "2^63": 2**63, "2^31": 2**31, "0": 0, "-1": -1,
             "1e3 as float": 1000.0, "null": None, "list": [1]}


@pytest.mark.parametrize("value", NOT_AN_ID.values(), ids=NOT_AN_ID.keys())
def test_an_id_in_a_body_is_a_json_integer_in_range(client, place, value):
    before = counts()
    resp = client.post(f"/api/v1/consultations/{place['consultation'].id}/ballots", headers=place["owner"],
                       json={"flat_id": value, "choice": "agree", "signature": factories.signature_png()})
    error = assert_error(resp, 422, "validation_error")
    assert list(error["details"]["json"]) == ["flat_id"]
    assert all(CJK.search(m) for m in error["details"]["json"]["flat_id"])
    assert counts() == before


@pytest.mark.parametrize("value", [2**63, 2**31, 0, "1", 1.5, True])
def test_ids_nested_in_a_body_are_checked_too(client, place, value):
    body = consultation_body(place["compound"], rule={"preset": "major", "required_consent_flat_ids": [value]})
    resp = client.post("/api/v1/consultations", json=body, headers=place["committee"])
    error = assert_error(resp, 422, "validation_error")
    assert "0" in error["details"]["json"]["rule"]["required_consent_flat_ids"]
    body = consultation_body(place["compound"])
    body["scope"]["id"] = value
    resp = client.post("/api/v1/consultations", json=body, headers=place["committee"])
    assert_error(resp, 422, "validation_error")
    assert counts()["Consultation"] == 1


@pytest.mark.parametrize("value", ["1.5", "true", "9223372036854775808", "2147483648", "0", "-1", "", "1e3",
                                   " 1", "+1", "1_0", "١"])
def test_an_id_in_a_query_string_is_digits_in_range(client, place, value):
    resp = client.get("/api/v1/consultations", query_string={"flat_id": value}, headers=place["owner"])
    error = assert_error(resp, 422, "validation_error")
    assert list(error["details"]["query"]) == ["flat_id"]


def test_a_query_id_in_range_still_works(client, place):
    resp = client.get("/api/v1/consultations", query_string={"flat_id": str(place["flat"].id)}, headers=place["owner"])
    assert resp.status_code == 200, resp.json
    assert [c["id"] for c in resp.json["data"]] == [place["consultation"].id]


@pytest.mark.parametrize("segment", ["1.5", "true", "9223372036854775808", "2147483648", "0", "-1", "1e3", "%201"])
def test_an_id_in_a_path_is_a_whole_number_in_range(client, place, segment):
    before = counts()
    for method, url in (("GET", f"/api/v1/consultations/{segment}"),
                        ("POST", f"/api/v1/consultations/{segment}/close"),
                        ("POST", f"/api/v1/paper-ballots/{segment}/confirm"),
                        ("DELETE", f"/api/v1/bindings/{segment}")):
        resp = client.open(url, method=method, headers=place["committee"])
        error = assert_error(resp, 422, "validation_error")
        assert error["details"] == {"path": ["路径中的编号应为 1 到 2147483647 之间的整数"]}
    assert counts() == before


def test_the_largest_id_is_a_404_not_an_overflow(client, place):
    resp = client.get(f"/api/v1/consultations/{2**31 - 1}", headers=place["committee"])
    assert_error(resp, 404, "not_found")


# ---------------------------------------------------------------- times

BAD_TIMES = ["1999-12-31T23:59:59+08:00", "2101-01-01T00:00:00Z", "0001-01-01T00:00:00",
             "9999-12-31T23:59:59-23:59", "2030-02-30T12:00:00", "2030-01-01T12:00:00+25:00", "now", "",
             "2030-01-01T12:00:00" + "0" * 10_000, 1893456000, True, None]


@pytest.mark.parametrize("value", BAD_TIMES, ids=[repr(v)[:30] for v in BAD_TIMES])
def test_a_deadline_is_a_time_between_2000_and_2100(client, place, value):
    resp = client.post("/api/v1/consultations", json=consultation_body(place["compound"], closes_at=value),
                       headers=place["committee"])
    error = assert_error(resp, 422, "validation_error")
    assert list(error["details"]["json"]) == ["closes_at"]
    assert CJK.search(error["details"]["json"]["closes_at"][0])
    assert counts()["Consultation"] == 1


@pytest.mark.parametrize("given, stored", [
    ("2030-01-01T12:00:00", datetime(2030, 1, 1, 4, 0)),        # no zone: Beijing time
    ("2030-01-01T12:00:00+08:00", datetime(2030, 1, 1, 4, 0)),
    ("2030-01-01T12:00:00Z", datetime(2030, 1, 1, 12, 0)),
    ("2030-01-01T04:00:00-02:00", datetime(2030, 1, 1, 6, 0)),
])
def test_a_time_without_a_zone_is_beijing_time(client, place, given, stored):
    resp = client.post("/api/v1/consultations", json=consultation_body(place["compound"], closes_at=given),
                       headers=place["committee"])
    assert resp.status_code == 201, resp.json
    assert resp.json["data"]["closes_at"] == stored.isoformat() + "Z"
    _db.session.expire_all()
    assert _db.session.get(Consultation, resp.json["data"]["id"]).closes_at == stored


# ---------------------------------------------------------------- text

BAD_TEXT = {"lone high surrogate": "电梯\ud800", "lone low surrogate": "\udfff", "NUL": "加装\x00电梯",
            "bell": "\x07", "escape": "\x1b[31m红", "DEL": "a\x7f", "C1": "a\x85b", "line break in a title": "第一行\n第二行",
            "tab in a title": "a\tb", "right-to-left override": "\u202egnp.exe"}


@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_text_holds_no_control_characters_or_lone_surrogates(client, place, value):
    before = counts()
    resp = post(client, "/api/v1/consultations", consultation_body(place["compound"], title=value),
                place["committee"])
    error = assert_error(resp, 422, "validation_error")
    assert list(error["details"]["json"]) == ["title"]
    resp = post(client, "/api/v1/bindings", {"flat_id": place["flat"].id, "relation": "tenant", "name": value},
                place["owner"])
    error = assert_error(resp, 422, "validation_error")
    assert list(error["details"]["json"]) == ["name"]
    resp = post(client, "/api/v1/auth/login", {"code": value})
    assert_error(resp, 422, "validation_error")
    assert counts() == before


@pytest.mark.parametrize("value", ["\x00", "\ud800", "\x1b", "\u2066"])
def test_free_text_holds_no_control_characters_either(client, place, value):
    resp = post(client, "/api/v1/consultations", consultation_body(place["compound"], body="说明" + value),
                place["committee"])
    error = assert_error(resp, 422, "validation_error")
    assert list(error["details"]["json"]) == ["body"]
    assert counts()["Consultation"] == 1


def test_free_text_keeps_its_line_breaks_and_tabs(client, place):
    text = "一、加装电梯\r\n二、费用分摊：\t按楼层\n😀"
    resp = client.post("/api/v1/consultations", json=consultation_body(place["compound"], body=text),
                       headers=place["committee"])
    assert resp.status_code == 201, resp.json
    _db.session.expire_all()
    assert _db.session.get(Consultation, resp.json["data"]["id"]).body == text


def test_a_string_where_text_is_expected_must_be_text(client, place):
    for value in (123, True, ["a"], {"a": 1}):
        resp = client.post("/api/v1/auth/login", json={"code": value})
        error = assert_error(resp, 422, "validation_error")
        assert error["details"]["json"] == {"code": ["应为文本"]}


# ---------------------------------------------------------------- rules and messages

BAD_RULES = [
    ({"preset": "none"}, "规则至少需要一个门槛"),
    ({"preset": "none", "thresholds": [{"what": "agree", "measure": "persons", "base": "all", "share": "3/2"}]},
     "比例 3/2 应大于 0 且不超过 1"),
    ({"preset": "none", "thresholds": [{"what": "agree", "measure": "persons", "base": "all", "share": "0/1"}]},
     "比例 0 应大于 0 且不超过 1"),
    ({"preset": "none", "thresholds": [{"what": "agree", "measure": "area", "base": "all", "share": "1/1",
                                        "strict": True}]}, "“超过全部”永远达不到：比例为 1 时不能要求严格超过"),
    ({"preset": "none", "thresholds": [{"what": "participate", "measure": "area", "base": "participants",
                                        "share": "1/2"}]}, "参与率应以全体为基数，不能以参与者为基数"),
]


@pytest.mark.parametrize("rule, reason", BAD_RULES)
def test_a_rule_that_cannot_be_counted_is_explained_in_chinese(client, place, rule, reason):
    resp = client.post("/api/v1/consultations", json=consultation_body(place["compound"], rule=rule),
                       headers=place["committee"])
    error = assert_error(resp, 422, "validation_error")
    assert error["details"]["rule"] == [reason]
    assert counts()["Consultation"] == 1


def test_expand_rule_speaks_chinese_for_what_bypasses_the_schema():
    from app.services.tally import expand_rule

    for kwargs in ({"preset": "unanimous"},
                   {"thresholds": [{"what": "agree", "measure": "persons", "base": "all", "share": "1/0"}]},
                   {"thresholds": [{"what": "agree", "measure": "persons", "base": "all", "share": "9" * 5000}]},
                   {"thresholds": [{"what": "agree", "measure": "persons", "share": "1/2"}]}):
        with pytest.raises(ValueError) as raised:
            expand_rule(**kwargs)
        assert CJK.search(str(raised.value)), str(raised.value)


def test_length_range_and_choice_messages_are_chinese(client, place):
    body = consultation_body(place["compound"], title="长" * 101, kind="spaceship",
                             options=[{"key": "agree", "label": "同意"}])
    resp = client.post("/api/v1/consultations", json=body, headers=place["committee"])
    details = assert_error(resp, 422, "validation_error")["details"]["json"]
    assert details["title"] == ["长度应在 1 到 100 之间"]
    assert details["kind"] == ["未知的事项类型"]
    assert details["options"] == ["长度应在 2 到 20 之间"]
    resp = client.get("/api/v1/bindings", query_string={"status": "stolen"}, headers=place["committee"])
    details = assert_error(resp, 422, "validation_error")["details"]["query"]
    assert details["status"] == ["应为以下之一：pending, approved, rejected, unbound"]


def _all_field_classes():
    import apiflask.fields

    for module in (ma_fields, apiflask.fields, inputs):
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, ma_fields.Field):
                yield cls


def test_no_validation_message_is_left_in_english():
    """Every message a field, a validator or a schema can produce reads Chinese."""
    from marshmallow import Schema

    english = []
    for cls in set(_all_field_classes()):
        messages = {}
        for klass in reversed(cls.__mro__):
            messages.update(getattr(klass, "default_error_messages", {}))
        english += [f"{cls.__name__}.{key}: {m}" for key, m in messages.items() if not CJK.search(m)]
    texts = {"Schema": Schema._default_error_messages}
    for name in ("Length", "Range", "OneOf", "NoneOf", "ContainsOnly", "ContainsNoneOf", "Regexp", "Equal",
                 "Predicate", "URL", "Email"):
        cls = getattr(validate, name)
        texts[name] = {a: getattr(cls, a) for a in dir(cls) if a.startswith(("message_", "default_message"))}
    for owner, messages in texts.items():
        english += [f"{owner}.{key}: {m}" for key, m in messages.items()
                    if key not in ("message_gte", "message_gt", "message_lte", "message_lt") and not CJK.search(m)]
    assert not english, english


# ---------------------------------------------------------------- every error rolls back

def test_every_error_rolls_the_transaction_back(app, db):
    """A handler that wrote and then failed with a 4xx leaves nothing for a later commit in the same
    session (a long-lived worker's session, or the next request in tests) to make permanent."""
    from app import create_app

    other = create_app("testing")
    bp = APIBlueprint("half_way", __name__)

    @bp.post("/half-way/<int:status>")
    def half_way(status):
        _db.session.add(Street(name="半途而废街道"))
        _db.session.flush()
        raise ApiError(status, "conflict", "冲突")

    other.register_blueprint(bp)
    with other.app_context():
        client = other.test_client()
        for status in (404, 409, 422, 429):
            assert client.post(f"/half-way/{status}").status_code == status
            _db.session.commit()
            assert _db.session.scalar(_db.select(_db.func.count()).select_from(Street)) == 0, status
        _db.session.remove()


# ---------------------------------------------------------------- nothing else can reach a 500

def test_a_quiet_walk_of_odd_requests_never_gets_a_500(app, client, place):
    """Requests no schema describes: wrong content types, empty bodies, odd methods and headers."""
    cid = place["consultation"].id
    odd = [
        ("POST", "/api/v1/consultations", {"data": "title=x", "content_type": "application/x-www-form-urlencoded"}),
        ("POST", "/api/v1/consultations", {"data": "", "content_type": "application/json"}),
        ("POST", "/api/v1/consultations", {"data": "null", "content_type": "application/json"}),
        ("POST", "/api/v1/consultations", {"data": '"text"', "content_type": "application/json"}),
        ("POST", f"/api/v1/consultations/{cid}/ballots", {"data": "{}", "content_type": "application/merge-patch+json"}),
        ("GET", "/api/v1/consultations?flat_id=1&flat_id=2", {}),
        ("GET", "/api/v1/receipts/" + "%00" * 40, {}),
        ("GET", "/api/v1/scan/%ED%A0%80", {}),
        ("GET", "/api/v1/receipts/" + "x" * 5000, {}),
    ]
    for method, url, kwargs in odd:
        for headers in (place["committee"], place["owner"], {"Authorization": "Bearer \x00\x01"},
                        {"Authorization": "Bearer " + "é" * 300}, {"Idempotency-Key": "\x00" * 100}):
            resp = client.open(url, method=method, headers=headers, **kwargs)
            assert resp.status_code < 500, (method, url, resp.status_code, resp.get_data(as_text=True)[:300])
            assert "error" in resp.json or "data" in resp.json
    assert counts()["Consultation"] == 1
