"""The console's other features in Chromium: a project moved through a phase and a refused move shown
in Chinese, a site report answered; a survey built with the four question kinds, answered through the
API and its results seen; a notice published with a push, a 公示's objection answered; the outbox's
failed messages and why; and a grid worker kept out of another grid's pages."""
import io
import re
from datetime import timedelta

from app.extensions import db as _db
from app.models import InboxItem, Notice, OutboxMessage, Project, ProjectPhase, SiteReport, Survey
from app.models.places import utcnow
from app.services import projects as project_service
from tests import factories
from tests.console.conftest import dev_sign_in, shot


def test_a_project_moves_on_a_refused_move_is_shown_in_chinese_and_a_site_report_is_answered(page, client, login):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    factories.staff("proj-chair", "committee", "compound", comp.id)
    owner = factories.resident(f"proj-owner-{comp.id}", comp.buildings[0].units[0].flats[0])
    _db.session.commit()

    dev_sign_in(page, "proj-chair")
    page.click("nav >> text=改造项目")
    page.click("text=新建改造项目")
    page.fill("input[name=title]", f"{comp.name}综合改造")
    page.fill("input[name=budget]", "1500000.5")
    page.fill("input[name=item0_name]", "屋面防水")
    page.fill("input[name=item1_name]", "加装电梯")
    page.select_option("select[name=item1_level]", "improvement")
    shot(page, "30-project-new")
    page.click("button:has-text('创建项目')")
    page.wait_for_url(re.compile(r".*/console/projects/\d+$"))
    project_id = int(page.url.rsplit("/", 1)[1])
    project = _db.session.get(Project, project_id)
    assert project.budget_fen == 150_000_050 and project.items[1] == {"name": "加装电梯", "level": "improvement"}

    page.fill("#phase-form input[name=reason]", "居民需求已汇总")
    page.click("#phase-form button")  # survey → plan: no needs survey to wait for
    page.wait_for_selector("#phases li.here >> text=方案征询")
    assert "居民需求已汇总" in page.inner_text("#phases")
    page.click("#phase-form button")  # plan → funding: no consultation has passed
    main = page.inner_text("main")
    assert "当前状态不允许" in main and "不能进入「资金筹集」" in main
    shot(page, "31-project-refused")
    _db.session.expire_all()
    assert _db.session.get(Project, project_id).phase == "plan"
    assert _db.session.scalar(_db.select(_db.func.count(ProjectPhase.id)).filter_by(project_id=project_id)) == 2

    for phase in ("funding", "works"):  # as the consultation and plan would move it
        project_service._enter(project_service.lock(project_id), phase, None, "测试")
    _db.session.commit()
    filed = client.post(f"/api/v1/projects/{project_id}/reports", headers=login(owner.name),
                        json={"text": "1栋北侧脚手架没有防护网", "place": {"text": "1栋北侧"}})
    assert filed.status_code == 201, filed.json
    page.goto(f"/console/projects/{project_id}")
    shot(page, "32-project")
    page.click("text=共 1 条")
    page.fill(f"#report-{filed.json['data']['id']} textarea[name=text]", "已通知施工方今天加装防护网")
    page.click(f"#report-{filed.json['data']['id']} button:has-text('答复')")
    page.wait_for_selector("text=已通知施工方今天加装防护网")
    shot(page, "33-site-reports")
    _db.session.expire_all()
    assert _db.session.get(SiteReport, filed.json["data"]["id"]).status == "answered"


def test_a_survey_with_four_kinds_of_question_answered_and_its_results_seen(page, client, login):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    factories.staff("survey-office", "community_staff", "community", comp.community_id)
    flats = [f for u in comp.buildings[0].units for f in u.flats]
    for i, flat in enumerate(flats[:3]):
        factories.resident(f"survey-owner-{comp.id}-{i}", flat)
    _db.session.commit()

    dev_sign_in(page, "survey-office")
    page.click("nav >> text=问卷")
    page.click("text=新建问卷")
    page.fill("input[name=title]", "改造需求调查")
    page.select_option("select[name=scope]", f"compound:{comp.id}")
    page.select_option("select[name=kind]", "needs")
    page.fill("input[name=closes_at]", (utcnow() + timedelta(days=3, hours=8)).strftime("%Y-%m-%dT%H:%M"))
    for i, (kind, text, options) in enumerate([("single", "最需要改造的是", "屋面\n外墙\n管网"),
                                               ("multiple", "希望增加的设施", "电梯\n车棚\n充电桩"),
                                               ("rating", "对现在的环境打分", ""),
                                               ("text", "其他意见", "")]):
        page.select_option(f"select[name=q{i}_kind]", kind)
        page.fill(f"input[name=q{i}_text]", text)
        if options:
            page.fill(f"textarea[name=q{i}_options]", options)
    page.uncheck("input[name=q3_required]")
    shot(page, "34-survey-new")
    page.click("button:has-text('保存为草稿')")
    page.wait_for_url(re.compile(r".*/console/surveys/\d+$"))
    survey_id = int(page.url.rsplit("/", 1)[1])
    assert [q["kind"] for q in _db.session.get(Survey, survey_id).questions] == ["single", "multiple", "rating", "text"]
    page.click("button:has-text('开始收集')")
    page.wait_for_selector("h1 >> text=进行中")
    answers = [{"q1": "o1", "q2": ["o1", "o3"], "q3": 4, "q4": "希望尽快装电梯"},
               {"q1": "o1", "q2": ["o2"], "q3": 2},
               {"q1": "o3", "q2": ["o1"], "q3": 5}]
    for i, given in enumerate(answers):
        resp = client.post(f"/api/v1/surveys/{survey_id}/responses", headers=login(f"survey-owner-{comp.id}-{i}"),
                           json={"flat_id": flats[i].id, "answers": given})
        assert resp.status_code == 201, resp.json
    page.reload()
    results = page.inner_text("#survey-results")
    assert "3 户 / 4 户" in results
    assert "2 户 / 3 户（66.7%）" in results  # 屋面, chosen by two of three
    assert "希望尽快装电梯" in results and "平均 3.67 分" in results
    shot(page, "35-survey-results")
    with page.expect_download() as xlsx:
        page.click("text=下载结果（Excel）")
    assert open(xlsx.value.path(), "rb").read(2) == b"PK"


def test_a_notice_published_with_a_push_a_publicity_objection_answered_and_failed_messages_explained(page, client, login):
    comp = factories.compound(buildings=(("1栋", 1, 2, 2),))
    factories.staff("notice-office", "community_staff", "community", comp.community_id)
    flats = [f for u in comp.buildings[0].units for f in u.flats]
    owners = [factories.resident(f"notice-owner-{comp.id}-{i}", flat) for i, flat in enumerate(flats[:2])]
    _db.session.commit()

    dev_sign_in(page, "notice-office")
    page.click("nav >> text=通知公示")
    page.select_option("select[name=scope]", f"compound:{comp.id}")
    page.fill("input[name=title]", "停水通知")
    page.fill("textarea[name=body]", "明天 9:00 至 17:00 更换水管，停水。")
    page.check("input[name=push]")
    shot(page, "36-notices")
    page.click("button:has-text('发布')")
    page.wait_for_selector("#published")
    assert "2 位居民" in page.inner_text("#published")
    notice = _db.session.scalar(_db.select(Notice).filter_by(title="停水通知"))
    assert notice.push and _db.session.scalar(
        _db.select(_db.func.count(InboxItem.id)).filter_by(notice_id=notice.id)) == 2

    page.goto("/console/notices")  # a 公示 with its period; a resident objects through the API
    page.select_option("select[name=kind]", "publicity")
    page.select_option("select[name=scope]", f"compound:{comp.id}")
    page.fill("input[name=title]", "电梯施工方案公示")
    page.fill("textarea[name=body]", "公示期内可提出异议。")
    now = utcnow() + timedelta(hours=8)
    page.fill("input[name=end]", (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button:has-text('发布')")
    assert "公示期" in page.inner_text("#form-errors")  # no start: refused in words, nothing written
    assert _db.session.scalar(_db.select(_db.func.count(Notice.id)).filter_by(kind="publicity")) == 0
    page.fill("input[name=start]", (now + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M"))
    page.click("button:has-text('发布')")
    page.wait_for_selector("#objections")
    publicity = _db.session.scalar(_db.select(Notice).filter_by(kind="publicity"))
    publicity.period_start = utcnow() - timedelta(minutes=1)  # the period has begun
    _db.session.commit()
    objected = client.post(f"/api/v1/notices/{publicity.id}/objections", headers=login(owners[0].name),
                           json={"flat_id": flats[0].id, "kind": "objection", "text": "电梯井离我家窗户太近"})
    assert objected.status_code == 201, objected.json
    page.reload()
    assert "电梯井离我家窗户太近" in page.inner_text("#objections")
    page.fill("#objections input[name=text]", "已请设计单位复核间距")
    page.click("#objections button:has-text('答复')")
    page.wait_for_selector("text=已请设计单位复核间距")
    shot(page, "37-publicity")

    message = _db.session.scalar(_db.select(OutboxMessage).where(OutboxMessage.user_id == owners[1].id))
    message.status, message.attempts, message.last_error = "failed", 1, "43101 refused or no quota"
    message.flat_id = flats[1].id
    _db.session.commit()
    page.click("nav >> text=消息")
    page.click("main a:has-text('未送达')")
    table = page.inner_text("#outbox")
    assert "居民未同意接收或次数已用完（43101）" in table and "43101 refused" not in table
    assert f"{flats[1].unit.building.name}{flats[1].unit.name}{flats[1].room}" in table
    shot(page, "38-outbox")


def test_a_grid_worker_reaches_no_other_grids_project_survey_notice_or_message(page, client, login):
    comp = factories.compound(buildings=(("1栋", 1, 2, 1),))
    other = factories.compound(buildings=(("9栋", 1, 2, 1),))
    g1 = factories.grid(comp, comp.buildings, "第一网格")
    factories.grid(other, other.buildings, "他区网格")
    factories.staff("feat-gw", "grid_worker", "grid", g1.id)
    them = factories.staff("feat-other", "committee", "compound", other.id)
    project = project_service.create(them, {"compound_id": other.id, "title": "他区改造",
                                            "items": [{"name": "外墙", "level": "basic"}], "budget_fen": 100})
    from app.services import notices, surveys

    survey = surveys.create(them, {"scope": {"type": "compound", "id": other.id}, "kind": "other", "title": "他区问卷",
                                   "closes_at": utcnow() + timedelta(days=1),
                                   "questions": [{"kind": "rating", "text": "打分", "required": True}]})
    notice, _, _ = notices.create(them, {"scope": {"type": "compound", "id": other.id}, "title": "他区通知",
                                         "body": "正文", "kind": "notice"})
    _db.session.commit()
    dev_sign_in(page, "feat-gw")
    texts = []
    for url in ["/console/projects", "/console/surveys", "/console/notices", "/console/outbox", "/console/"]:
        page.goto(url)
        texts.append(page.inner_text("main"))
    shot(page, "39-grid-dashboard")
    assert not any(word in "\n".join(texts) for word in ("他区改造", "他区问卷", "他区通知", "9栋"))
    for url in [f"/console/projects/{project.id}", f"/console/projects/{project.id}/reports",
                f"/console/surveys/{survey.id}", f"/console/surveys/{survey.id}/results.xlsx",
                f"/console/notices/{notice.id}"]:
        resp = page.request.get(url)
        assert resp.status == 404, f"{url} → {resp.status}"
    assert "新建改造项目" not in texts[0]  # a grid worker does not create projects
