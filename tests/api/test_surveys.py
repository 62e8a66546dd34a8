"""Surveys (问卷) end to end: needs before, satisfaction after. One counted answer per flat whoever of
its residents answers; results that equal a recount by hand; WeChat's check on free text through the
emulator; strict answers; strangers see nothing. The file runs on SQLite and on MariaDB
(TEST_DATABASE_URL); the race of two residents of one flat runs on MariaDB only."""
import io
import random
import re
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from app.extensions import db
from app.models import Binding, Survey, SurveyResponse
from app.models.places import utcnow
from config import TestingConfig
from tests import factories as f

API = "/api/v1"
RATING_KEYS = ["quality", "site_management", "environment", "management", "overall"]


def _closes(days=7):
    return (utcnow() + timedelta(days=days)).isoformat() + "Z"


def _bind(name, flat, relation):
    """dev-<name> bound to flat with this relation (approved), as a grid worker would approve it."""
    person = f.user(name)
    db.session.add(Binding(user=person, flat=flat, relation=relation, name=name[:8], status="approved", method="staff"))
    db.session.flush()
    return person


def _place(prefix, buildings=(("1栋", 2, 6, 4),)):
    """A compound (48 flats by default) with its committee member and grid worker."""
    comp = f.compound(buildings=buildings)
    grid = f.grid(comp, comp.buildings)
    f.staff(f"{prefix}committee", "committee", "compound", comp.id)
    f.staff(f"{prefix}gw", "grid_worker", "grid", grid.id)
    flats = [fl for b in comp.buildings for u in b.units for fl in u.flats]
    return comp, flats


def _create(client, headers, scope, status=201, **extra):
    body = {"scope": scope, "title": extra.pop("title", "改造满意度评价"), "kind": extra.pop("kind", "satisfaction"),
            "closes_at": extra.pop("closes_at", _closes()), **extra}
    resp = client.post(f"{API}/surveys", headers=headers, json=body)
    assert resp.status_code == status, resp.json
    return resp.json


def _open_survey(client, headers, scope, **extra):
    created = _create(client, headers, scope, **extra)["data"]
    resp = client.post(f"{API}/surveys/{created['id']}/open", headers=headers)
    assert resp.status_code == 200, resp.json
    return resp.json["data"]


def _answer(client, headers, survey_id, flat_id, answers, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"{API}/surveys/{survey_id}/responses", headers={**headers, **extra},
                       json={"flat_id": flat_id, "answers": answers})


def _ratings(rng):
    return {k: rng.randint(1, 5) for k in RATING_KEYS}


def _stored():
    db.session.rollback()
    return db.session.scalar(db.select(db.func.count()).select_from(SurveyResponse))


def _q(results, key):
    return next(q for q in results["questions"] if q["key"] == key)


def _fraction(n, d):
    v = Fraction(n, d)
    return f"{v.numerator}/{v.denominator}"


def _round(n, d, places):
    return str((Decimal(n) / Decimal(d)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


# ---------------------------------------------------------------- 40 flats, recounted by hand


def test_a_satisfaction_survey_of_40_flats_equals_a_recount(client, db, login):
    """40 of 48 flats answer the preset satisfaction survey: 10 through a family member, a tenant
    for one, 8 flats change their answer (the last counts, the earlier kept as not current). Do the
    means, distributions, satisfaction rates, the overall block and participation equal a recount
    written here, exactly and in their rounded displays?"""
    comp, flats = _place("s40")
    for i, flat in enumerate(flats[:40]):
        f.resident(f"s40o{i}", flat)
        if i < 10:
            _bind(f"s40fam{i}", flat, "family")
    _bind("s40tenant", flats[10], "tenant")
    db.session.commit()
    staff = login("s40committee")
    survey = _open_survey(client, staff, {"type": "compound", "id": comp.id})
    assert survey["flats"] == 48 and survey["status"] == "open"
    assert [q["key"] for q in survey["questions"]] == RATING_KEYS + ["comment"]
    assert [q["text"] for q in survey["questions"]][:5] == ["工程质量", "施工管理", "环境改善", "后续管理", "总体满意度"]

    rng = random.Random(40)
    final, written = {}, 0
    for i, flat in enumerate(flats[:40]):
        who = f"s40fam{i}" if i < 10 else ("s40tenant" if i == 10 else f"s40o{i}")
        answers = _ratings(rng)
        if i % 4 == 0:
            answers["comment"] = f"第{i}户：楼道很干净，谢谢施工队"
        if i % 5 == 0:  # this flat answers first and then changes its answer (by another resident)
            resp = _answer(client, login(f"s40o{i}"), survey["id"], flat.id, {k: 1 for k in RATING_KEYS})
            assert resp.status_code == 201, resp.json
            written += 1
        resp = _answer(client, login(who), survey["id"], flat.id, answers)
        assert resp.status_code == 201, resp.json
        assert resp.json["data"]["current"] is True
        assert resp.json["data"]["text_state"] == ("visible" if "comment" in answers else None)
        written += 1
        final[flat.id] = answers

    # the recount, by hand, from what the test sent
    expected = {}
    pooled = Counter()
    for key in RATING_KEYS:
        scores = [a[key] for a in final.values()]
        dist = Counter(scores)
        pooled.update(scores)
        satisfied = dist[4] + dist[5]
        expected[key] = {
            "count": 40, "sum": sum(scores), "mean": _fraction(sum(scores), 40), "mean_display": _round(sum(scores), 40, 2),
            "distribution": {str(s): dist[s] for s in range(1, 6)}, "satisfied": satisfied,
            "satisfaction_rate": _fraction(satisfied, 40), "satisfaction_percent": _round(100 * satisfied, 40, 1)}
    all_scores = sum(pooled.values())
    all_sum = sum(s * n for s, n in pooled.items())
    all_satisfied = pooled[4] + pooled[5]

    results = client.get(f"{API}/surveys/{survey['id']}/results", headers=staff).json["data"]
    assert results["final"] is False
    assert results["participation"] == {"flats": 48, "answered": 40, "share": "5/6", "percent": "83.3"}
    for key in RATING_KEYS:
        assert _q(results, key)["rating"] == expected[key], key
        assert _q(results, key)["answered"] == 40
    overall = results["overall"]
    assert all_scores == 200
    assert overall["ratings"] == 200
    assert overall["mean"] == _fraction(all_sum, 200) and overall["mean_display"] == _round(all_sum, 200, 2)
    assert overall["satisfied"] == all_satisfied
    assert overall["satisfaction_rate"] == _fraction(all_satisfied, 200)
    assert overall["satisfaction_percent"] == _round(100 * all_satisfied, 200, 1)
    assert overall["participation"] == results["participation"]
    comments = _q(results, "comment")
    assert sorted(c["text"] for c in comments["comments"]) == sorted(a["comment"] for a in final.values() if "comment" in a)
    assert all(c["room"].startswith("1栋") for c in comments["comments"])  # staff see rooms, never names
    assert comments["held"] == 0 and comments["answered"] == 10

    # every flat one current answer, the earlier ones kept
    db.session.rollback()
    rows = db.session.execute(db.select(SurveyResponse.flat_id, SurveyResponse.current)).all()
    assert len(rows) == written == 48
    assert Counter(fid for fid, cur in rows if cur) == Counter({fid: 1 for fid in final})
    assert sum(1 for _, cur in rows if cur is None) == 8

    # the brief a project's story shows: the rate and mean for residents only once closed
    from app.services.surveys import summary

    brief = summary(survey["id"])
    assert (brief["answered"], brief["participation_percent"], brief["rate_percent"], brief["mean"]) == (40, 83.3, None, None)
    assert summary(survey["id"], live=True)["mean"] == overall["mean_display"]

    # residents read the results once closed, the texts without rooms
    owner = login("s40o20")
    early = client.get(f"{API}/surveys/{survey['id']}/results", headers=owner)
    assert early.status_code == 409 and early.json["error"]["message"] == "问卷结束后公布结果"
    assert client.post(f"{API}/surveys/{survey['id']}/close", headers=staff).status_code == 200
    public = client.get(f"{API}/surveys/{survey['id']}/results?flat_id={flats[20].id}", headers=owner).json["data"]
    assert public["final"] is True
    assert [_q(public, k)["rating"] for k in RATING_KEYS] == [expected[k] for k in RATING_KEYS]
    assert all(set(c) == {"text"} for c in _q(public, "comment")["comments"])
    assert summary(survey["id"])["rate_percent"] == float(overall["satisfaction_percent"])
    # and a family member's listing shows the flat's current answer
    listed = client.get(f"{API}/surveys?flat_id={flats[0].id}", headers=login("s40fam0")).json["data"]
    assert listed[0]["flat"]["response"]["answers"] == final[flats[0].id]
    assert listed[0]["flat"]["response"]["by_me"] is True and listed[0]["results_available"] is True


def test_the_last_answer_counts_and_a_family_member_sees_it(client, db, login):
    """An owner answers, the tenant changes it, the owner changes it again: one current answer, the
    owner's last; two earlier ones kept not current; each resident of the flat sees the same answer."""
    comp, flats = _place("lc", buildings=(("1栋", 1, 1, 2),))
    f.resident("lcowner", flats[0])
    _bind("lctenant", flats[0], "tenant")
    db.session.commit()
    staff, owner, tenant = login("lccommittee"), login("lcowner"), login("lctenant")
    survey = _open_survey(client, staff, {"type": "building", "id": comp.buildings[0].id}, kind="needs", questions=[
        {"kind": "multiple", "text": "您所在楼栋最需要改造哪些项目？",
         "options": [{"key": "lift", "label": "加装电梯"}, {"key": "roof", "label": "屋面防水"},
                     {"key": "pipes", "label": "管网更新"}]},
        {"kind": "single", "text": "物业管理方式", "options": [{"key": "pro", "label": "专业物业"},
                                                          {"key": "self", "label": "居民自治"}], "required": False}])
    assert [q["key"] for q in survey["questions"]] == ["q1", "q2"]
    sid = survey["id"]
    first = _answer(client, owner, sid, flats[0].id, {"q1": ["lift"], "q2": "pro"}).json["data"]
    second = _answer(client, tenant, sid, flats[0].id, {"q1": ["roof", "pipes"]}).json["data"]
    third = _answer(client, owner, sid, flats[0].id, {"q1": ["lift", "roof"], "q2": "self"}).json["data"]
    assert first["id"] < second["id"] < third["id"]
    db.session.rollback()
    rows = {r.id: r.current for r in db.session.scalars(db.select(SurveyResponse))}
    assert rows == {first["id"]: None, second["id"]: None, third["id"]: True}
    for who, mine in ((owner, True), (tenant, False)):
        seen = client.get(f"{API}/surveys/{sid}?flat_id={flats[0].id}", headers=who).json["data"]["flat"]
        assert seen["response"]["answers"] == {"q1": ["lift", "roof"], "q2": "self"}
        assert seen["response"]["by_me"] is mine and seen["answered"] is True
    results = client.get(f"{API}/surveys/{sid}/results", headers=staff).json["data"]
    assert results["participation"] == {"flats": 2, "answered": 1, "share": "1/2", "percent": "50.0"}
    assert {o["key"]: (o["count"], o["share"]) for o in _q(results, "q1")["options"]} == {
        "lift": (1, "1/1"), "roof": (1, "1/1"), "pipes": (0, "0/1")}
    assert {o["key"]: o["count"] for o in _q(results, "q2")["options"]} == {"pro": 0, "self": 1}
    assert results["overall"] is None


# ---------------------------------------------------------------- WeChat's check on free text


def test_a_risky_comment_is_refused_and_a_review_comment_is_held_then_released(client, db, login):
    """Through the emulator: a comment with a risky word is refused in Chinese and nothing of that
    answer is stored (not even its ratings); a doubtful one is stored held, hidden from the results
    (counted as held), listed for review, released by the committee and then shown; another held one
    is rejected with a reason the flat reads, and a grid worker may not review (403, who may)."""
    comp, flats = _place("cc", buildings=(("1栋", 1, 2, 2),))
    for i in range(3):
        f.resident(f"cco{i}", flats[i])
    db.session.commit()
    staff, gw = login("cccommittee"), login("ccgw")
    owners = [login(f"cco{i}") for i in range(3)]
    sid = _open_survey(client, staff, {"type": "compound", "id": comp.id})["id"]
    ratings = {k: 5 for k in RATING_KEYS}

    risky = _answer(client, owners[0], sid, flats[0].id, {**ratings, "comment": "这里有网络赌博的广告"})
    assert risky.status_code == 422
    assert risky.json["error"]["code"] == "content_risky"
    assert risky.json["error"]["message"] == "内容含有不当信息，未能提交，请修改后重新提交"
    assert risky.json["error"]["details"] == {"answers": {"comment": ["内容含有不当信息，未能提交"]}}
    assert _stored() == 0

    held = _answer(client, owners[0], sid, flats[0].id, {**ratings, "comment": "有事加微信联系施工方"})
    assert held.status_code == 201 and held.json["data"]["text_state"] == "held"
    other = _answer(client, owners[1], sid, flats[1].id, {**ratings, "quality": 3, "comment": "可以私下交易吗"})
    assert other.json["data"]["text_state"] == "held"
    shown = _answer(client, owners[2], sid, flats[2].id, {**ratings, "comment": "绿化做得好"})
    assert shown.json["data"]["text_state"] == "visible"

    results = client.get(f"{API}/surveys/{sid}/results", headers=staff).json["data"]
    comment = _q(results, "comment")
    assert [c["text"] for c in comment["comments"]] == ["绿化做得好"] and comment["held"] == 2
    assert _q(results, "quality")["rating"]["count"] == 3  # held texts hide the text, not the ratings

    queue = client.get(f"{API}/surveys/{sid}/held", headers=staff).json["data"]
    assert [(h["id"], h["texts"][0]["text"]) for h in queue] == [
        (held.json["data"]["id"], "有事加微信联系施工方"), (other.json["data"]["id"], "可以私下交易吗")]
    assert queue[0]["room"] == "1栋1单元101" and queue[0]["texts"][0]["question"] == "其他意见和建议"
    refused = client.post(f"{API}/survey-responses/{held.json['data']['id']}/release", headers=gw)
    assert refused.status_code == 403 and "committee" in refused.json["error"]["details"]["allowed_roles"]
    assert client.get(f"{API}/surveys/{sid}/held", headers=gw).status_code == 403
    assert client.post(f"{API}/survey-responses/{held.json['data']['id']}/release", headers=owners[0]).status_code == 404

    released = client.post(f"{API}/survey-responses/{held.json['data']['id']}/release", headers=staff)
    assert released.status_code == 200 and released.json["data"]["text_state"] == "visible"
    again = client.post(f"{API}/survey-responses/{held.json['data']['id']}/release", headers=staff)
    assert again.status_code == 409 and again.json["error"]["code"] == "not_held"
    rejected = client.post(f"{API}/survey-responses/{other.json['data']['id']}/reject", headers=staff,
                           json={"reason": "与本次改造无关"})
    assert rejected.json["data"]["text_state"] == "rejected" and rejected.json["data"]["review_reason"] == "与本次改造无关"
    missing_reason = client.post(f"{API}/survey-responses/{other.json['data']['id']}/reject", headers=staff, json={})
    assert missing_reason.status_code == 422

    results = client.get(f"{API}/surveys/{sid}/results", headers=staff).json["data"]
    comment = _q(results, "comment")
    assert sorted(c["text"] for c in comment["comments"]) == ["有事加微信联系施工方", "绿化做得好"]
    assert comment["held"] == 0
    assert client.get(f"{API}/surveys/{sid}/held", headers=staff).json["data"] == []
    mine = client.get(f"{API}/surveys/{sid}?flat_id={flats[1].id}", headers=owners[1]).json["data"]["flat"]["response"]
    assert mine["text_state"] == "rejected" and mine["text_state_name"] == "未公开"
    assert mine["review_reason"] == "与本次改造无关" and "_meta" not in mine["answers"]


# ---------------------------------------------------------------- strict answers


QUESTIONS = [
    {"key": "need", "kind": "single", "text": "最需要的改造项目",
     "options": [{"key": "lift", "label": "加装电梯"}, {"key": "roof", "label": "屋面防水"}]},
    {"key": "extra", "kind": "multiple", "text": "还需要哪些", "required": False,
     "options": [{"key": "parking", "label": "停车位"}, {"key": "light", "label": "路灯"}, {"key": "bench", "label": "座椅"}]},
    {"key": "score", "kind": "rating", "text": "对现状的评分"},
    {"key": "note", "kind": "text", "text": "其他建议", "required": False},
]
GOOD = {"need": "lift", "extra": ["parking", "light"], "score": 3, "note": "希望尽快开工"}


@pytest.mark.parametrize("answers, key, message", [
    ({**GOOD, "nosuch": 1}, "nosuch", "问卷中没有这道题"),
    ({k: v for k, v in GOOD.items() if k != "need"}, "need", "请回答这道题"),
    ({**GOOD, "need": None}, "need", "请回答这道题"),
    ({**GOOD, "need": "garden"}, "need", "没有这个选项"),
    ({**GOOD, "need": ["lift"]}, "need", "应选择一个选项（选项编号）"),
    ({**GOOD, "score": 0}, "score", "评分应为 1 到 5 的整数"),
    ({**GOOD, "score": 6}, "score", "评分应为 1 到 5 的整数"),
    ({**GOOD, "score": 4.5}, "score", "评分应为 1 到 5 的整数"),
    ({**GOOD, "score": "5"}, "score", "评分应为 1 到 5 的整数"),
    ({**GOOD, "score": True}, "score", "评分应为 1 到 5 的整数"),
    ({**GOOD, "score": 10**30}, "score", "评分应为 1 到 5 的整数"),
    ({**GOOD, "extra": "parking"}, "extra", "应为所选选项编号的列表"),
    ({**GOOD, "extra": []}, "extra", "请至少选择一项"),
    ({**GOOD, "extra": ["parking", "parking"]}, "extra", "同一选项只能选一次"),
    ({**GOOD, "extra": ["parking", "pool"]}, "extra", "没有这个选项"),
    ({**GOOD, "extra": [1, 2]}, "extra", "应为所选选项编号的列表"),
    ({**GOOD, "note": "长" * 501}, "note", "不能超过 500 个字（现有 501 个字）"),
    ({**GOOD, "note": 42}, "note", "应为文字"),
    ({**GOOD, "note": {"text": "x"}}, "note", "应为文字"),
    ({**GOOD, "note": "换行可以\n响铃不行\x07"}, "note", "不能包含控制字符或无效的字符"),
])
def test_every_wrong_answer_is_refused_in_chinese_with_nothing_written(client, db, login, answers, key, message):
    """Does each wrong answer get a 422 naming its question, in Chinese, with nothing stored?"""
    comp, flats = _place("va", buildings=(("1栋", 1, 1, 2),))
    f.resident("vao", flats[0])
    db.session.commit()
    owner = login("vao")
    sid = _open_survey(client, login("vacommittee"), {"type": "compound", "id": comp.id}, kind="needs",
                       questions=QUESTIONS)["id"]
    resp = _answer(client, owner, sid, flats[0].id, answers)
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["details"]["answers"] == {key: [message]}
    numbered = {q["key"]: f"第 {i} 题「{q['text']}」：" for i, q in enumerate(QUESTIONS, 1)}
    assert resp.json["error"]["message"] == numbered.get(key, "") + message
    assert _stored() == 0
    ok = _answer(client, owner, sid, flats[0].id, GOOD)
    assert ok.status_code == 201 and ok.json["data"]["answers"] == GOOD  # the same flat with right answers


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=600),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(answers=st.dictionaries(st.sampled_from(["need", "extra", "score", "note", "other", ""]), JSON, max_size=5))
def test_any_json_as_answers_is_either_clean_or_a_422(answers):
    """Whatever JSON arrives as answers, the check either returns answers of the declared kinds or
    refuses with a 422 in Chinese (never another error)."""
    from app.errors import ApiError
    from app.services.surveys import check_answers, check_questions

    try:
        cleaned = check_answers(check_questions("needs", QUESTIONS), answers)
    except ApiError as exc:
        assert exc.status_code == 422 and re.search("[\u4e00-\u9fff]", exc.message)
        return
    assert cleaned["need"] in ("lift", "roof") and cleaned["score"] in range(1, 6) and type(cleaned["score"]) is int
    assert set(cleaned) <= {"need", "extra", "score", "note"}
    assert "extra" not in cleaned or (cleaned["extra"] and set(cleaned["extra"]) <= {"parking", "light", "bench"})
    assert "note" not in cleaned or 0 < len(cleaned["note"]) <= 500


def test_answers_that_are_not_an_object_or_empty_are_refused(client, db, login):
    comp, flats = _place("ve", buildings=(("1栋", 1, 1, 2),))
    f.resident("veo", flats[0])
    db.session.commit()
    owner = login("veo")
    sid = _open_survey(client, login("vecommittee"), {"type": "compound", "id": comp.id}, kind="needs",
                       questions=[q | {"required": False} for q in QUESTIONS])["id"]
    for answers, message in (({}, "请至少回答一道题"), ({"note": "   "}, "请至少回答一道题")):
        resp = _answer(client, owner, sid, flats[0].id, answers)
        assert resp.status_code == 422 and resp.json["error"]["message"] == message
    resp = client.post(f"{API}/surveys/{sid}/responses", headers=owner, json={"flat_id": flats[0].id, "answers": [1]})
    assert resp.status_code == 422 and resp.json["error"]["details"]["json"]["answers"]
    two = _answer(client, owner, sid, flats[0].id, {"need": "x", "score": 9})
    assert two.status_code == 422 and set(two.json["error"]["details"]["answers"]) == {"need", "score"}
    assert two.json["error"]["message"].startswith("有 2 道题的答案有误")
    assert _stored() == 0


# ---------------------------------------------------------------- lifecycle, deadlines, idempotency


def test_creating_checks_scope_project_questions_and_who(client, db, login):
    """Creators of the scope only (a grid worker 403, another compound's committee 404); the project
    must be of the same compound; options only where they belong; keys unique; a non-satisfaction
    survey needs questions; the deadline in the future."""
    from app.models import Project

    comp, flats = _place("cr", buildings=(("1栋", 1, 1, 2),))
    other, _ = _place("cro", buildings=(("9栋", 1, 1, 1),))
    mine = Project(compound_id=comp.id, title="改造", items=[], budget_fen=1)
    theirs = Project(compound_id=other.id, title="改造", items=[], budget_fen=1)
    db.session.add_all([mine, theirs])
    db.session.commit()
    staff, gw, stranger = login("crcommittee"), login("crgw"), login("crocommittee")
    scope = {"type": "compound", "id": comp.id}
    assert _create(client, staff, scope, project_id=mine.id)["data"]["project_id"] == mine.id
    assert _create(client, gw, scope, status=403)["error"]["details"]["allowed_roles"]
    assert _create(client, stranger, scope, status=403)["error"]["code"] == "forbidden"
    assert _create(client, staff, {"type": "compound", "id": 2**31 - 1}, status=404)["error"]["code"] == "not_found"
    wrong = [
        ({"project_id": theirs.id}, "关联的改造项目应为本小区的项目"),
        ({"kind": "needs"}, "请至少设置一个问题（满意度评价可不填，使用预设的五项评分和一项意见）"),
        ({"questions": [{"kind": "single", "text": "单选", "options": [{"key": "a", "label": "甲"}]}]},
         "第 1 题「单选」是单选题，须有 2 到 20 个选项"),
        ({"questions": [{"kind": "rating", "text": "评分", "options": [{"key": "a", "label": "甲"}, {"key": "b", "label": "乙"}]}]},
         "第 1 题「评分」是评分（1-5）题，不设选项"),
        ({"questions": [{"kind": "single", "text": "单选", "options": [{"key": "a", "label": "甲"}, {"key": "a", "label": "乙"}]}]},
         "第 1 题「单选」的选项编号重复"),
        ({"questions": [{"key": "x", "kind": "text", "text": "甲"}, {"key": "x", "kind": "text", "text": "乙"}]},
         "问题编号重复：x"),
        ({"closes_at": (utcnow() - timedelta(minutes=1)).isoformat() + "Z"}, "截止时间应晚于现在"),
    ]
    for extra, message in wrong:
        answer = _create(client, staff, scope, status=422, **extra)
        assert answer["error"]["message"] == message, extra
    too_many = _create(client, staff, scope, status=422, questions=[{"kind": "text", "text": f"题{i}"} for i in range(31)])
    assert too_many["error"]["details"]["json"]["questions"] == ["问题应为 1 到 30 个"]
    generated = _create(client, staff, scope, kind="other", questions=[
        {"kind": "text", "text": "甲"}, {"key": "q1", "kind": "text", "text": "乙"}, {"kind": "rating", "text": "丙"}])
    assert [q["key"] for q in generated["data"]["questions"]] == ["q2", "q1", "q3"]
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(Survey)) == 2


def test_open_close_deadline_and_the_job(app, client, db, login):
    """Draft → open (the flats in scope counted) → closed by staff; at closes_at answers are refused
    in Chinese and the job closes the survey; a grid worker may watch but not open or close; a
    resident never sees a draft."""
    from app.jobs import close_due_surveys

    comp, flats = _place("oc", buildings=(("1栋", 1, 2, 2), ("2栋", 1, 1, 2)))
    f.resident("oco", flats[0])
    db.session.commit()
    staff, gw, owner = login("occommittee"), login("ocgw"), login("oco")
    draft = _create(client, staff, {"type": "building", "id": comp.buildings[0].id})["data"]
    sid = draft["id"]
    assert draft["status"] == "draft" and draft["flats"] is None
    assert client.get(f"{API}/surveys/{sid}?flat_id={flats[0].id}", headers=owner).status_code == 404
    assert client.get(f"{API}/surveys?flat_id={flats[0].id}", headers=owner).json["data"] == []
    assert _answer(client, owner, sid, flats[0].id, {k: 3 for k in RATING_KEYS}).status_code == 404
    assert client.get(f"{API}/surveys/{sid}/results", headers=staff).status_code == 409
    assert client.post(f"{API}/surveys/{sid}/open", headers=gw).status_code == 403
    opened = client.post(f"{API}/surveys/{sid}/open", headers=staff).json["data"]
    assert opened["flats"] == 4 and opened["accepting"] is True  # building 1 only
    assert client.post(f"{API}/surveys/{sid}/open", headers=staff).json["error"]["code"] == "not_draft"
    assert [s["id"] for s in client.get(f"{API}/surveys", headers=gw).json["data"]] == [sid]
    assert client.get(f"{API}/surveys", headers=owner).status_code == 403

    # the deadline passes: answers refused at once, the job closes it
    db.session.get(Survey, sid).closes_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    late = _answer(client, owner, sid, flats[0].id, {k: 3 for k in RATING_KEYS})
    assert late.status_code == 409 and late.json["error"]["message"] == "问卷已过截止时间，不能再提交或修改答案"
    assert close_due_surveys(app) == [sid]
    assert close_due_surveys(app) == []
    closed = client.get(f"{API}/surveys/{sid}?flat_id={flats[0].id}", headers=owner).json["data"]
    assert closed["status"] == "closed" and closed["results_available"] is True and closed["accepting"] is False
    after = _answer(client, owner, sid, flats[0].id, {k: 3 for k in RATING_KEYS})
    assert after.status_code == 409 and after.json["error"]["message"] == "问卷已结束，不能再提交或修改答案"
    assert client.post(f"{API}/surveys/{sid}/close", headers=staff).json["error"]["code"] == "not_open"
    assert _stored() == 0


def test_an_idempotency_key_answers_the_same_response(client, db, login):
    """A retry with the same key answers the same response (one row, even after another resident
    answered since); the same key with other answers is refused; another resident's key is theirs."""
    comp, flats = _place("ik", buildings=(("1栋", 1, 1, 2),))
    f.resident("iko", flats[0])
    _bind("ikfam", flats[0], "family")
    db.session.commit()
    owner, family = login("iko"), login("ikfam")
    sid = _open_survey(client, login("ikcommittee"), {"type": "compound", "id": comp.id})["id"]
    answers = {**{k: 4 for k in RATING_KEYS}, "comment": "很好"}
    first = _answer(client, owner, sid, flats[0].id, answers, key="retry-1")
    again = _answer(client, owner, sid, flats[0].id, answers, key="retry-1")
    assert first.status_code == again.status_code == 201 and first.json["data"]["id"] == again.json["data"]["id"]
    assert _stored() == 1
    _answer(client, family, sid, flats[0].id, {k: 2 for k in RATING_KEYS})
    late_retry = _answer(client, owner, sid, flats[0].id, answers, key="retry-1")
    assert late_retry.json["data"]["id"] == first.json["data"]["id"] and late_retry.json["data"]["current"] is False
    changed = _answer(client, owner, sid, flats[0].id, {k: 5 for k in RATING_KEYS}, key="retry-1")
    assert changed.status_code == 422 and changed.json["error"]["code"] == "idempotency_mismatch"
    theirs = _answer(client, family, sid, flats[0].id, answers, key="retry-1")
    assert theirs.status_code == 409 and theirs.json["error"]["code"] == "idempotency_conflict"
    assert _stored() == 2
    bad = _answer(client, owner, sid, flats[0].id, answers, key="x" * 65)
    assert bad.status_code == 422


# ---------------------------------------------------------------- who sees what


def test_strangers_and_other_compounds_see_nothing(client, db, login):
    """A survey of building 1: a resident of building 2, a resident and the committee of another
    compound, a grid worker of another grid get 404 on every survey path and an empty list; the
    resident of building 1 sees it; an unbound flat_id is 404."""
    comp, flats = _place("st", buildings=(("1栋", 1, 1, 2), ("2栋", 1, 1, 2)))
    other, other_flats = _place("sto", buildings=(("1栋", 1, 1, 2),))
    b2_grid = f.grid(comp, [comp.buildings[1]])
    f.staff("stgw2", "grid_worker", "grid", b2_grid.id)
    f.resident("stin", flats[0])
    f.resident("stb2", flats[2])
    f.resident("stout", other_flats[0])
    db.session.commit()
    staff = login("stcommittee")
    sid = _open_survey(client, staff, {"type": "building", "id": comp.buildings[0].id})["id"]
    inside = login("stin")
    held = _answer(client, inside, sid, flats[0].id, {**{k: 5 for k in RATING_KEYS}, "comment": "加微信"}).json["data"]
    assert client.post(f"{API}/surveys/{sid}/close", headers=staff).status_code == 200
    assert client.get(f"{API}/surveys/{sid}/results", headers=inside).status_code == 200
    strangers = {"stb2": flats[2].id, "stout": other_flats[0].id, "stocommittee": None, "stgw2": None}
    for name, own_flat in strangers.items():
        h = login(name)
        for path in (f"/surveys/{sid}", f"/surveys/{sid}/results", f"/surveys/{sid}/results.xlsx", f"/surveys/{sid}/held",
                     f"/surveys/{sid}?flat_id={flats[0].id}", f"/surveys/{sid}/results?flat_id={flats[0].id}"):
            resp = client.get(API + path, headers=h)
            assert resp.status_code == 404, (name, path, resp.status_code)
            assert "error" in resp.json
        for path, body in ((f"/surveys/{sid}/close", None), (f"/surveys/{sid}/open", None),
                           (f"/survey-responses/{held['id']}/release", None),
                           (f"/survey-responses/{held['id']}/reject", {"reason": "试探"}),
                           (f"/surveys/{sid}/responses", {"flat_id": flats[0].id, "answers": {"quality": 1}})):
            resp = client.post(API + path, headers=h, json=body)
            assert resp.status_code == 404, (name, path, resp.status_code)
        if own_flat:
            assert client.get(f"{API}/surveys?flat_id={own_flat}", headers=h).json["data"] == []
            assert _answer(client, h, sid, own_flat, {k: 1 for k in RATING_KEYS}).status_code == 404
        else:
            assert client.get(f"{API}/surveys", headers=h).json["data"] == []
    assert client.get(f"{API}/surveys/{sid}").status_code == 401
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(SurveyResponse)) == 1
    assert db.session.get(SurveyResponse, held["id"]).text_state == "held"


# ---------------------------------------------------------------- the workbook, and the cost of results


def test_the_workbook_holds_the_same_figures_and_no_formula(client, db, login):
    """results.xlsx: the participation, each rating's mean and rate and the comments, as in the JSON;
    a comment that Excel would read as a formula stays text (quote prefix); no cell is a formula."""
    from openpyxl import load_workbook

    comp, flats = _place("xl", buildings=(("1栋", 1, 2, 2),))
    for i in range(3):
        f.resident(f"xlo{i}", flats[i])
    db.session.commit()
    staff = login("xlcommittee")
    sid = _open_survey(client, staff, {"type": "compound", "id": comp.id})["id"]
    for i, comment in enumerate(["=HYPERLINK(\"http://example.com\",\"点我\")", "@SUM(A1)", "一切都好"]):
        resp = _answer(client, login(f"xlo{i}"), sid, flats[i].id, {**{k: 3 + i for k in RATING_KEYS}, "comment": comment})
        assert resp.status_code == 201
    figures = client.get(f"{API}/surveys/{sid}/results", headers=staff).json["data"]
    resp = client.get(f"{API}/surveys/{sid}/results.xlsx", headers=staff)
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.data)).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c for c in cells if c.data_type == "f"]
    values = [c.value for c in cells]
    assert "3 / 4 户（75.0%，开始时范围内的房屋为基数）" in values
    formula_like = [c for c in cells if isinstance(c.value, str) and c.value.endswith(("点我\")", "@SUM(A1)"))]
    assert len(formula_like) == 2 and all(c.data_type == "s" and c.quotePrefix for c in formula_like)
    rooms = [sheet.cell(row=c.row, column=2).value for c in formula_like]
    assert rooms == ["1栋1单元101", "1栋1单元102"]  # staff see the rooms, beside the texts
    assert client.post(f"{API}/surveys/{sid}/close", headers=staff).status_code == 200
    public = load_workbook(io.BytesIO(client.get(f"{API}/surveys/{sid}/results.xlsx?flat_id={flats[0].id}",
                                                 headers=login("xlo0")).data)).active
    assert "1栋1单元101" not in [c.value for row in public.iter_rows() for c in row]
    assert figures["overall"]["mean"] in values and Decimal(figures["overall"]["mean_display"]) in values
    assert values.count(Decimal("4.00")) >= 5  # each question's mean: (3+4+5)/3


def test_results_take_the_same_number_of_statements_for_3_or_30_answers(app, client, db, login):
    """Results are counted in a constant number of SQL statements whatever the number of answers."""
    comp, flats = _place("sq", buildings=(("1栋", 1, 6, 5),))
    for i in range(30):
        f.resident(f"sqo{i}", flats[i])
    db.session.commit()
    staff = login("sqcommittee")
    questions = QUESTIONS + [{"key": "rate2", "kind": "rating", "text": "评分二"}]
    sid = _open_survey(client, staff, {"type": "compound", "id": comp.id}, kind="needs", questions=questions)["id"]

    def statements():
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            resp = client.get(f"{API}/surveys/{sid}/results", headers=staff)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert resp.status_code == 200
        return len(seen), resp.json["data"]

    rng = random.Random(3)
    for i in range(30):
        answers = {"need": rng.choice(["lift", "roof"]), "extra": ["bench"], "score": rng.randint(1, 5),
                   "rate2": 5, "note": f"建议{i}"}
        assert _answer(client, login(f"sqo{i}"), sid, flats[i].id, answers).status_code == 201
        if i == 2:
            few, data = statements()
            assert data["participation"]["answered"] == 3
    many, data = statements()
    assert data["participation"]["answered"] == 30 and len(_q(data, "note")["comments"]) == 30
    assert few == many


# ---------------------------------------------------------------- two residents of one flat at once (MariaDB)


@pytest.mark.skipif(not TestingConfig.SQLALCHEMY_DATABASE_URI.startswith("mysql"),
                    reason="the race needs TEST_DATABASE_URL=mysql+pymysql://… (SQLite serialises writers)")
def test_residents_of_one_flat_answering_at_once_leave_one_current_answer(app, db):
    """On MariaDB, real threads over HTTP: the owner, a family member and the tenant of each of 8 flats
    answer at once, five rounds; then each resident sends one Idempotency-Key twice at once. Every
    answer lands (201), each flat keeps exactly one current answer, the one written last, and a key
    sent twice writes one response."""
    from tests.concurrency.harness import at_once, call, login_all, serve

    comp = f.compound(buildings=(("1栋", 1, 2, 4),))
    flats = [fl for u in comp.buildings[0].units for fl in u.flats]
    f.staff("rcommittee", "committee", "compound", comp.id)
    people = []
    for i, flat in enumerate(flats):
        f.resident(f"ro{i}", flat)
        _bind(f"rf{i}", flat, "family")
        _bind(f"rt{i}", flat, "tenant")
        people += [(f"ro{i}", flat.id), (f"rf{i}", flat.id), (f"rt{i}", flat.id)]
    db.session.commit()
    with serve(app) as base:
        h = login_all(base, [p for p, _ in people] + ["rcommittee"])
        status, body = call("POST", f"{base}{API}/surveys", headers=h["rcommittee"], json={
            "scope": {"type": "compound", "id": comp.id}, "title": "满意度", "kind": "satisfaction", "closes_at": _closes()})
        assert status == 201, body
        sid = body["data"]["id"]
        assert call("POST", f"{base}{API}/surveys/{sid}/open", headers=h["rcommittee"])[0] == 200
        landed = []
        for round_ in range(5):
            answers = at_once([lambda p=p, fid=fid, n=n: call(
                "POST", f"{base}{API}/surveys/{sid}/responses", headers=h[p],
                json={"flat_id": fid, "answers": {k: 1 + (n + round_) % 5 for k in RATING_KEYS}})
                for n, (p, fid) in enumerate(people)])
            assert [s for s, _ in answers] == [201] * len(people), [a for a in answers if a[0] != 201][:3]
            landed += [b["data"]["id"] for _, b in answers]
        keyed = at_once([lambda p=p, fid=fid: call(
            "POST", f"{base}{API}/surveys/{sid}/responses", headers={**h[p], "Idempotency-Key": f"twice-{p}"},
            json={"flat_id": fid, "answers": {k: 5 for k in RATING_KEYS}}) for p, fid in people for _ in range(2)])
        assert [s for s, _ in keyed] == [201] * (2 * len(people)), [a for a in keyed if a[0] != 201][:3]
        ids = [b["data"]["id"] for _, b in keyed]
        assert all(ids[i] == ids[i + 1] for i in range(0, len(ids), 2))
        status, results = call("GET", f"{base}{API}/surveys/{sid}/results", headers=h["rcommittee"])
    db.session.rollback()
    rows = db.session.execute(db.select(SurveyResponse.id, SurveyResponse.flat_id, SurveyResponse.current)).all()
    assert len(rows) == len(landed) + len(people)  # every 201 wrote one row; each key once
    by_flat = {}
    for rid, fid, current in rows:
        by_flat.setdefault(fid, []).append((rid, current))
    for fid, answers in by_flat.items():
        currents = [rid for rid, cur in answers if cur]
        assert currents == [max(rid for rid, _ in answers)], (fid, answers)
    assert results["data"]["participation"]["answered"] == len(flats)
    assert results["data"]["overall"]["mean"] == "5/1"
