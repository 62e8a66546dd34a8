"""Renovation projects (改造项目) and what residents do around them: needs and satisfaction surveys
(决策共谋, 效果共评), site reports during works (项目共管), the representatives' acceptance (验收)."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.places import utcnow

# The phases in their only order; a project moves one step forward at a time, each on its condition.
PHASES = ("survey", "plan", "funding", "works", "acceptance", "evaluation", "done")
PHASE_NAMES = {"survey": "需求调查", "plan": "方案征询", "funding": "资金筹集", "works": "施工",
               "acceptance": "竣工验收", "evaluation": "效果评价", "done": "已完成"}
# The national classification of renovation content (城镇老旧小区改造: 基础类、完善类、提升类).
LEVELS = {"basic": "基础类", "improvement": "完善类", "enhancement": "提升类"}
SURVEY_KINDS = {"needs": "需求调查", "satisfaction": "满意度评价", "other": "问卷"}
SURVEY_STATUSES = {"draft": "草稿", "open": "进行中", "closed": "已结束"}
QUESTION_KINDS = {"single": "单选", "multiple": "多选", "rating": "评分（1-5）", "text": "文字"}
REPORT_STATUSES = {"open": "待答复", "answered": "已答复", "resolved": "已解决", "reopened": "重新打开"}
OPINIONS = {"pass": "通过", "pass_with_remarks": "通过（附意见）", "fail": "不通过"}
# What WeChat's msgSecCheck made of a resident's text: shown (pass, or released by staff), held for
# staff (review), or not shown (rejected by staff).
TEXT_STATES = {"visible": "已公开", "held": "待工作人员审核", "rejected": "未公开"}


class Project(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    items: Mapped[list] = mapped_column(JSON)  # [{name, level}] level: basic | improvement | enhancement
    budget_fen: Mapped[int]
    phase: Mapped[str] = mapped_column(String(16), default="survey", index=True)
    # What the phases wait for: the consultation on the plan (passed), the contribution plan
    # (funded, where there is one), the needs and satisfaction surveys.
    plan_consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id"))
    contribution_plan_id: Mapped[int | None] = mapped_column(ForeignKey("contribution_plan.id"))
    needs_survey_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id", use_alter=True))
    satisfaction_survey_id: Mapped[int | None] = mapped_column(ForeignKey("survey.id", use_alter=True))
    # The acceptance passes when more than (strict) or at least this share of representatives sign pass.
    acceptance_share: Mapped[str] = mapped_column(String(16), default="1/2")
    acceptance_strict: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    phase_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    compound = relationship("Compound")


class ProjectPhase(db.Model):
    """Each phase a project entered: when, by whom (None: the system, on its condition) and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")


class Survey(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    scope_type: Mapped[str] = mapped_column(String(16))  # compound | building | unit
    scope_id: Mapped[int]
    project_id: Mapped[int | None] = mapped_column(ForeignKey("project.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # needs | satisfaction | other
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    # [{key, kind: single | multiple | rating | text, text, options: [{key, label}], required}]
    questions: Mapped[list] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    closes_at: Mapped[datetime] = mapped_column(index=True)
    flats: Mapped[int | None]  # flats in scope when it opened: the base of participation
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class SurveyResponse(db.Model):
    """One flat's answers; any bound resident of the flat answers, the last answer counts. `current`
    is True for the one that counts and NULL for earlier ones, so the unique constraint allows one
    current answer per flat, whoever races."""

    __table_args__ = (UniqueConstraint("survey_id", "flat_id", "current"),
                      UniqueConstraint("survey_id", "idempotency_key"))
    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    answers: Mapped[dict] = mapped_column(JSON)  # {question key: option key | [option keys] | 1-5 | text}
    current: Mapped[bool | None]
    text_state: Mapped[str | None] = mapped_column(String(16))  # TEXT_STATES, when it holds text
    review_reason: Mapped[str | None] = mapped_column(String(200))  # why staff did not make it public
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SiteReport(db.Model):
    """A problem on site reported during works by a resident or a supervisor, and what became of it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    place: Mapped[str] = mapped_column(String(100), default="")  # building/unit or free text
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    photo_ids: Mapped[list] = mapped_column(JSON)  # up to 3 blob ids
    text_state: Mapped[str] = mapped_column(String(16))  # TEXT_STATES
    status: Mapped[str] = mapped_column(String(16), default="open")  # REPORT_STATUSES
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None]
    reopened: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AcceptanceSignature(db.Model):
    """A representative's signed opinion on a project's acceptance: one per representative."""

    __table_args__ = (UniqueConstraint("project_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    opinion: Mapped[str] = mapped_column(String(24))  # OPINIONS
    remarks: Mapped[str] = mapped_column(Text, default="")
    signature_id: Mapped[int] = mapped_column(ForeignKey("blob.id"))
    signature_sha256: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Defect(db.Model):
    """A defect a representative listed with a failing opinion, tracked until resolved."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    signature_id: Mapped[int] = mapped_column(ForeignKey("acceptance_signature.id"))
    text: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | resolved
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None]
    note: Mapped[str] = mapped_column(String(500), default="")
