"""All tables, one module per aggregate."""
from app.models.places import District, Street, Community, Compound, Grid, Building, Unit, Flat  # noqa: F401
from app.models.people import Owner, FlatCoOwner  # noqa: F401
from app.models.accounts import User, StaffRole, AuthSession, ConsoleTicket  # noqa: F401
from app.models.bindings import Binding, BindingAttempt  # noqa: F401
from app.models.wechat import WechatToken  # noqa: F401
from app.models.consultations import Consultation, RollEntry, VoteSlot, Blob, Ballot, ConsultationResult  # noqa: F401
from app.models.audit import AuditChain, AuditEntry  # noqa: F401
from app.models.messages import SubscriptionQuota, OutboxMessage  # noqa: F401
from app.models.notices import Notice, InboxItem  # noqa: F401
from app.models.notices import Objection  # noqa: F401
from app.models.contributions import ContributionPlan, PlanFlat, PlanDue, Pledge, PledgeLine, PlanPayment, PlanResult  # noqa: F401
from app.models.projects import Project, ProjectPhase, Survey, SurveyResponse, SiteReport, AcceptanceSignature, Defect  # noqa: F401
from app.models.jobs import ConsoleJob  # noqa: F401
from app.models.proxies import Proxy  # noqa: F401
from app.models.exports import EvidenceThumbnail, ExportJob, ExportChunk  # noqa: F401
