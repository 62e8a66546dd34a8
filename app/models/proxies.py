"""Written proxies (委托书, issue 15): an owner authorises another verified resident to sign ballots
and pledges for the owner's person of the roll, for one consultation, one plan, or until revoked."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.consultations import PERSON_KEY
from app.models.places import utcnow

SCOPES = {"consultation": "仅限一次征询", "plan": "仅限一个出资方案", "standing": "长期有效（直至撤销）"}
STATUSES = {"active": "有效", "unconfirmed": "纸质委托书待第二名工作人员确认", "revoked": "已撤销"}
CHANNELS = {"online": "业主线上签署", "paper": "纸质委托书（工作人员录入）"}


class Proxy(db.Model):
    __table_args__ = (
        UniqueConstraint("flat_id", "idempotency_key"),
        Index("ix_proxy_holder_status", "proxy_user_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)  # 委托编号, shown like a receipt
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    flat_id: Mapped[int] = mapped_column(ForeignKey("flat.id"), index=True)
    # The person of the roll it speaks for, as the roster named them when it was granted.
    person_key: Mapped[str] = mapped_column(PERSON_KEY)
    channel: Mapped[str] = mapped_column(String(8))  # online | paper
    grantor_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # the owner who signed online
    grantor_owner_id: Mapped[int | None] = mapped_column(ForeignKey("owner.id"))  # roster owner of that binding
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # paper: who entered it
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))  # paper: the second staff member
    confirmed_at: Mapped[datetime | None]
    proxy_user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proxy_name: Mapped[str] = mapped_column(String(64))  # as on the proxy's own binding; shown masked
    scope: Mapped[str] = mapped_column(String(16))  # consultation | plan | standing
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id"))
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("contribution_plan.id"))
    status: Mapped[str] = mapped_column(String(16))
    # The owner's signature (online) or the photo of the signed paper proxy, addressed by SHA-256.
    image_id: Mapped[int | None] = mapped_column(ForeignKey("blob.id"))
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
