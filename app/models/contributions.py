"""Contribution plans (出资方案): items, standards, the frozen amount each flat owes, the signed
pledges (出资承诺), payments and refunds, and the outcome stored at closing. Money in integer fen."""
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.consultations import PERSON_KEY
from app.models.places import utcnow

STATUSES = {"draft": "草稿", "open": "认筹中", "funded": "已截止·资金已落实", "not_funded": "已截止·未达成"}
METHODS = {
    "direct": "直接缴纳",
    "provident_fund": "住房公积金",
    "maintenance_fund": "住宅专项维修资金",
    "goods": "实物",
    "labour": "投工投劳",
}
STANDARDS = {
    "fixed": "每户均摊",
    "area": "按专有面积",
    "floor_coefficient": "按楼层系数 × 面积",
    "flat_coefficient": "按每户系数",
}
PLEDGE_STATUSES = {
    "current": "有效（计入统计）",
    "superseded": "已被该户后来的承诺替代",
    "unconfirmed": "纸质承诺待第二名工作人员确认",
}
PAYMENT_STATES = {"none": "未承诺", "pledged": "已承诺·未缴", "partly_paid": "部分缴纳", "paid": "已缴清",
                  "refunded": "已退款"}


class ContributionPlan(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    scope_type: Mapped[str] = mapped_column(String(16))  # compound | building | unit
    scope_id: Mapped[int]
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    # [{key, name, required, cost_fen, subsidies: [{name, amount_fen}], standard: {type, ...}, allow_less}]
    items: Mapped[list] = mapped_column(JSON)
    methods: Mapped[list] = mapped_column(JSON)
    labour_rate_fen: Mapped[int | None]  # the value of one hour of labour, when labour is allowed
    # {required_items: bool, min_flat_share: "2/3" | None, required_flat_ids: [...]}
    funding_rule: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    closes_at: Mapped[datetime] = mapped_column(index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    digest: Mapped[str | None] = mapped_column(String(64))  # the frozen terms and every flat's amounts
    compound = relationship("Compound")


class PlanFlat(db.Model):
    """One flat of the frozen plan: where it is, its area and floor, the person it belongs to, the
    total it owes; and the pledge that counts for it now (locked while a pledge is written)."""

    __table_args__ = (UniqueConstraint("plan_id", "flat_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("contribution_plan.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"), index=True)
    person_key: Mapped[str] = mapped_column(PERSON_KEY)
    label: Mapped[str] = mapped_column(String(64))
    building_id: Mapped[int]
    unit_id: Mapped[int]
    area: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    floor: Mapped[int]
    due_fen: Mapped[int]
    liable: Mapped[bool] = mapped_column(default=False)  # owes something on a required item
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledge.id"))


class PlanDue(db.Model):
    """What one flat owes for one item: its weight under the item's standard and the amount in fen."""

    __table_args__ = (UniqueConstraint("plan_id", "flat_id", "item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("contribution_plan.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"))
    item: Mapped[str] = mapped_column(String(32))
    weight: Mapped[Decimal] = mapped_column(Numeric(20, 6))
    amount_fen: Mapped[int]


class Pledge(db.Model):
    """出资承诺: every pledge ever signed or entered for a flat; the flat's row says which counts."""

    __table_args__ = (
        UniqueConstraint("plan_id", "idempotency_key"),
        Index("ix_pledge_plan_flat", "plan_id", "flat_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("contribution_plan.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"))
    person_key: Mapped[str] = mapped_column(PERSON_KEY)
    channel: Mapped[str] = mapped_column(String(8))  # online | paper
    status: Mapped[str] = mapped_column(String(16))  # current | superseded | unconfirmed
    lines: Mapped[list] = mapped_column(JSON)  # [{item, method, amount_fen, hours, note}]
    total_fen: Mapped[int]
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime | None]
    signature_id: Mapped[int | None] = mapped_column(ForeignKey("blob.id"))
    signature_sha256: Mapped[str | None] = mapped_column(String(64))
    receipt: Mapped[str] = mapped_column(String(16), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))
    # The written proxy (委托书) under which user_id signed for the owner; hashed only when set.
    proxy_id: Mapped[int | None] = mapped_column(ForeignKey("proxy.id"))
    plan = relationship("ContributionPlan")


class PledgeLine(db.Model):
    """One line of a pledge (its item, method and amount) as a row, written with the pledge, so that
    the tally sums the pledges that count by item and method in the database. The pledge's own
    lines (in its content hash) are the record; flask audit verify compares these rows with them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id"), index=True)
    item: Mapped[str] = mapped_column(String(32))
    method: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]


class PlanPayment(db.Model):
    """A payment or a refund recorded by staff against a flat's pledge, split over its items."""

    __table_args__ = (
        UniqueConstraint("plan_id", "idempotency_key"),
        Index("ix_plan_payment_plan_flat", "plan_id", "flat_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("contribution_plan.id"))
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledge.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"))
    kind: Mapped[str] = mapped_column(String(8))  # payment | refund
    amount_fen: Mapped[int]
    allocation: Mapped[dict] = mapped_column(JSON)  # {item: fen}
    method: Mapped[str] = mapped_column(String(16))
    paid_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(64), default="")
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("blob.id"))
    photo_sha256: Mapped[str | None] = mapped_column(String(64))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))


class PlanResult(db.Model):
    """The outcome at closing, with the plan digest it was counted under. Written once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("contribution_plan.id"), unique=True)
    funded: Mapped[bool]
    tally: Mapped[dict] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
