"""What every operation answers on success, for the OpenAPI document: `{"data": ...}` with the
exact fields the handler returns (app.api.views, app.api.consultations' views, the services' views
of tallies, pending flats, receipts).

These schemas only document: handlers still build their answers as dicts, nothing is serialised
through them (an `@bp.output` would drop any field a schema forgot). Each operation names its answer
with `@bp.doc(responses=answer(Schema))`. Fields always present are required; fields that can be
null say so (allow_none). Unknown fields are not allowed (additionalProperties: false), so a field
added to a handler and not here fails tests/api/test_answers_match_schema.py and the schemathesis
run. Areas are exact decimal strings ("80.00"); times are ISO 8601 in UTC ("...Z"); phones and
names of others are masked.
"""
from apiflask import Schema
from apiflask.fields import Boolean, DateTime, Dict, Integer, List, Nested, Raw, String
from apiflask.validators import OneOf

from app.models.accounts import ROLES
from app.models.bindings import RELATIONS
from app.models.bindings import STATUSES as BINDING_STATUSES
from app.models.consultations import KINDS, SCOPES
from app.models.consultations import STATUSES as CONSULTATION_STATUSES
from app.services.ballots import STATUS_NAMES as BALLOT_STATUSES
from app.models.messages import OUTBOX_STATUSES
from app.models.contributions import METHODS, PAYMENT_STATES, PLEDGE_STATUSES, STANDARDS
from app.models.contributions import STATUSES as PLAN_STATUSES
from app.models.projects import LEVELS, PHASES

CHANNELS = ["online", "paper"]
PRESETS = ["major", "ordinary", "none"]


def Text(nullable=False, **kwargs):  # noqa: N802  (a field factory, read like a field class)
    return String(required=True, allow_none=nullable, **kwargs)


def Int(nullable=False, **kwargs):  # noqa: N802
    return Integer(required=True, allow_none=nullable, **kwargs)


def Bool(**kwargs):  # noqa: N802
    return Boolean(required=True, **kwargs)


def Time(nullable=False, **kwargs):  # noqa: N802
    """An instant in UTC, ISO 8601 with a Z."""
    return DateTime(required=True, allow_none=nullable, **kwargs)


def Area(**kwargs):  # noqa: N802
    """Square metres as an exact decimal string with two places."""
    return String(required=True, metadata={"description": "平方米，两位小数的十进制字符串", "pattern": r"^\d+\.\d{2}$"},
                  **kwargs)


def Amount(nullable=False, description=None):  # noqa: N802
    """A count (integer) or an area (decimal string), as a tally threshold measures it."""
    kinds = [{"type": "integer"}, {"type": "string", "pattern": r"^\d+\.\d{2}$"}]
    if nullable:
        kinds.append({"type": "null"})
    return Raw(required=True, metadata={"oneOf": kinds, **({"description": description} if description else {})})


def Enum(values, nullable=False, **kwargs):  # noqa: N802
    return String(required=True, allow_none=nullable, validate=OneOf(list(values)), **kwargs)


def One(schema, nullable=False, **kwargs):  # noqa: N802
    return Nested(schema, required=True, allow_none=nullable, **kwargs)


def Many(schema_or_field, **kwargs):  # noqa: N802
    inner = Nested(schema_or_field) if isinstance(schema_or_field, type) else schema_or_field
    return List(inner, required=True, **kwargs)


def either(*schemas):
    """A field that is one of several named schemas (each must also be used elsewhere, so that it is
    among the document's components)."""
    return Raw(required=True, metadata={"oneOf": [{"$ref": f"#/components/schemas/{s.__name__}"} for s in schemas]})


# ---------------------------------------------------------------- places, people

class PlaceRef(Schema):
    """A place named in an answer: a compound, building or unit."""
    id = Int()
    name = Text()


class Flat(Schema):
    id = Int()
    room = Text()
    floor = Int()
    unit = One(PlaceRef)
    building = One(PlaceRef)
    compound = One(PlaceRef)
    label = Text(metadata={"description": "小区 楼栋单元房号，例如 阳光里小区 1栋1单元101"})


class LockedFlat(Flat):
    locked_at = Time(nullable=True, metadata={"description": "锁定时间；解锁后为 null"})


class ScanFlat(Schema):
    id = Int()
    room = Text()
    floor = Int()


class ScanUnit(Schema):
    id = Int()
    name = Text()
    flats = Many(ScanFlat)


class ScanBuilding(Schema):
    id = Int()
    name = Text()
    compound = One(PlaceRef)


class Scan(Schema):
    building = One(ScanBuilding)
    units = Many(ScanUnit)


class User(Schema):
    id = Int()
    name = Text(nullable=True)
    phone = Text(nullable=True, metadata={"description": "掩码，例如 138****1234"})
    roles = Many(String(validate=OneOf(list(ROLES))))


class RoleScope(Schema):
    type = Text()
    id = Int()
    name = Text(nullable=True)


class Role(Schema):
    role = Enum(ROLES)
    role_name = Text()
    scope = One(RoleScope, nullable=True, metadata={"description": "admin 没有范围：null"})


class MaskedPerson(Schema):
    name = Text(metadata={"description": "姓名（工作人员所见的申请人）或掩码姓名（名册业主）"})
    phone = Text(nullable=True, metadata={"description": "掩码"})


class Binding(Schema):
    id = Int()
    flat = One(Flat)
    relation = Enum(RELATIONS)
    relation_name = Text()
    status = Enum(BINDING_STATUSES)
    status_name = Text()
    reason = Text(nullable=True)
    created_at = Time()
    level = Int(metadata={"description": "核验等级：1 名册核验；2 网格员当面核验"})
    level_name = Text()
    level_at = Time(nullable=True, metadata={"description": "当面核验的时间（等级 2）"})


class StaffBinding(Binding):
    """A binding as reviewers see it: who applied, the roster's owner (masked), how it was decided."""
    applicant = One(MaskedPerson)
    roster_owner = One(MaskedPerson, nullable=True)
    method = Text(nullable=True)


class Login(Schema):
    token = Text()
    expires_at = Time()
    user = One(User)
    bindings = Many(Binding)


class Phone(Schema):
    phone = Text(metadata={"description": "掩码，例如 138****1234"})


class Logout(Schema):
    logged_out = Bool()
    sessions_ended = Int()


class Me(Schema):
    user = One(User)
    bindings = Many(Binding)
    roles = Many(Role)


class BindingCreated(Schema):
    id = Int()
    status = Enum(["approved", "pending"])
    binding = One(Binding)


# ---------------------------------------------------------------- consultations

class Threshold(Schema):
    what = Enum(["participate", "agree"])
    measure = Enum(["persons", "area", "flats"])
    base = Enum(["all", "participants"])
    share = Text(metadata={"description": "分数，例如 2/3"})
    strict = Bool(metadata={"description": "true：须超过（过半数）；false：达到即可（以上）"})


class Rule(Schema):
    preset = Enum(PRESETS)
    thresholds = Many(Threshold)
    required_consent_flat_ids = Many(Integer())
    objection_veto = Bool()
    objection_notice_id = Integer(metadata={"description": "其异议计为明确反对的公示；未指定时没有这一项"})
    required_level = Integer(metadata={"description": "线上签署所需的核验等级；仅在要求 2（网格员当面核验）时出现"})


class Option(Schema):
    key = Text()
    label = Text()


class ScopeRef(Schema):
    type = Enum(SCOPES)
    id = Int()


class ResultBrief(Schema):
    passed = Bool()
    still_needed = Text(nullable=True)


class Ballot(Schema):
    id = Int()
    choice = Text()
    choice_label = Text(nullable=True)
    channel = Enum(CHANNELS)
    status = Enum(BALLOT_STATUSES)
    recorded_at = Time()


class SigningFor(Schema):
    proxy_id = Int()
    number = Text(metadata={"description": "委托编号"})
    owner = Text(metadata={"description": "委托人（名册业主）的掩码姓名，共有人以“、”分隔"})


class Consultation(Schema):
    id = Int()
    title = Text()
    body = Text()
    kind = Enum(KINDS)
    kind_name = Text()
    scope = One(ScopeRef)
    compound = One(PlaceRef)
    rule = One(Rule)
    options = Many(Option)
    status = Enum(CONSULTATION_STATUSES)
    status_name = Text()
    opens_at = Time(nullable=True)
    closes_at = Time()
    opened_at = Time(nullable=True)
    closed_at = Time(nullable=True)
    published_at = Time(nullable=True)
    roll_digest = Text(nullable=True)
    accepting = Bool(metadata={"description": "现在是否接受表决"})
    result = Nested(ResultBrief, metadata={"description": "仅在已公布后"})
    flat_id = Integer(metadata={"description": "仅在请求带 flat_id 时"})
    answered = Boolean(metadata={"description": "仅在请求带 flat_id 时：该户是否已表决"})
    ballot = Nested(Ballot, allow_none=True, metadata={
        "description": "仅在请求带 flat_id 时：该户计入的票；家庭成员和租户在公布前看不到（null）"})
    signing_for = Nested(SigningFor, metadata={
        "description": "仅在 GET /consultations/{id}?flat_id= 且当前用户凭书面委托为该户签署时：代签的是谁的票"})
    cannot_sign = String(allow_none=True, metadata={
        "description": "仅在 GET /consultations/{id}?flat_id= 时：当前用户现在为什么不能为该户线上签署（null：可以签署），"
                       "例如须网格员当面核验时说明如何联系网格员"})


class ClosedConsultation(Consultation):
    passed = Bool()


class SignReceipt(Schema):
    ballot_id = Int()
    receipt = Text(metadata={"description": "回执码，凭它查询 GET /receipts/{code}"})
    status = Enum(BALLOT_STATUSES)
    status_name = Text()


class PaperBallotEntry(Schema):
    id = Int()
    receipt = Text()
    status = Enum(BALLOT_STATUSES)
    status_name = Text()


class PaperBallot(Ballot):
    room = Text()
    receipt = Text()
    entered_by = Int(nullable=True)
    confirmed_by = Int(nullable=True)


class ReceiptConsultation(Schema):
    id = Int()
    title = Text()
    status = Enum(CONSULTATION_STATUSES)


class Receipt(Schema):
    receipt = Text()
    consultation = One(ReceiptConsultation)
    room = Text(nullable=True)
    channel = Enum(CHANNELS)
    channel_name = Text()
    choice = Text()
    choice_label = Text()
    recorded_at = Time()
    confirmed_at = Time(nullable=True)
    status = Enum(BALLOT_STATUSES)
    status_name = Text()
    counted = Bool()
    ballot_hash = Text()


class PendingFlat(Schema):
    flat_id = Int()
    room = Text()
    floor = Int()
    area = Area()
    developer_held = Bool()
    unreachable = Bool(metadata={"description": "关于本征询的微信消息未能送达（未订阅或被拒收），需上门"})
    owner = One(MaskedPerson, nullable=True)


class RoomAnswer(Schema):
    room = Text()
    choice = Text(nullable=True)
    choice_label = Text(metadata={"description": "未表决的户为“未表决”"})


# ---------------------------------------------------------------- tallies (app.services.tally.count)

class CheckedThreshold(Threshold):
    value = Amount(description="已达到的数（人数、户数为整数，面积为字符串）")
    of = Amount(description="基数")
    met = Bool()
    needed = Amount(nullable=True, description="还差多少；null：已无法达到（需全体一致）")


class TallySection(Schema):
    persons = Int()
    area = Area()
    flats = Int()
    met = Bool()
    thresholds = Many(CheckedThreshold)


class Roll(Schema):
    flats = Int()
    persons = Int()
    area = Area()
    digest = Text(nullable=True)


class ChoiceCount(Schema):
    label = Text()
    persons = Int()
    area = Area()
    flats = Int()


class RequiredConsent(Schema):
    flats = Many(Integer())
    missing = Many(String(), metadata={"description": "尚未同意的必须同意户（房号）"})
    met = Bool()


class Veto(Schema):
    enabled = Bool()
    objections = Int()
    met = Bool()


class UnitCount(Schema):
    id = Int()
    name = Text(nullable=True)
    flats = Int()
    answered = Int()
    area = Area()
    answered_area = Area()
    choices = Dict(keys=String(), values=Integer(), required=True)


class BuildingCount(UnitCount):
    units = Many(UnitCount)


class Tally(Schema):
    rule = One(Rule)
    roll = One(Roll)
    participation = One(TallySection)
    approval = One(TallySection)
    choices = Dict(keys=String(), values=Nested(ChoiceCount), required=True)
    required_consent = One(RequiredConsent)
    veto = One(Veto)
    passed = Bool()
    still_needed = Text()
    buildings = Many(BuildingCount)
    stored = Bool(metadata={"description": "true：截止时保存的结果（不再重新计票）；false：实时计票"})
    counted_at = DateTime(metadata={"description": "仅在 stored 为 true 时"})


class ResultSummary(Schema):
    roll = One(Roll)
    participation = One(TallySection)
    approval = One(TallySection)
    choices = Dict(keys=String(), values=Nested(ChoiceCount), required=True)
    passed = Bool()
    still_needed = Text()


class Results(Schema):
    consultation = One(Consultation)
    result = One(ResultSummary)
    rooms = Many(RoomAnswer)


class Health(Schema):
    status = Text()
    database = Text()


# ---------------------------------------------------------------- the envelope

_ENVELOPES = {}


# ---------------------------------------------------------------- subscriptions and the outbox

class Quota(Schema):
    """A subscribe-message template and how many sends of it the user allows (one per acceptance)."""
    template = Text(metadata={"description": "模板名称（配置中的名字），例如 ballot_reminder"})
    title = Text()
    template_id = Text(metadata={"description": "微信模板 ID，供 wx.requestSubscribeMessage 的 tmplIds"})
    remaining = Int()


class Subscriptions(Schema):
    quotas = Many(Quota)


class OutboxItem(Schema):
    """One message of the outbox as staff see it: never an openid or a phone number."""
    id = Int()
    template = Text()
    template_title = Text()
    status = Enum(OUTBOX_STATUSES)
    status_name = Text()
    attempts = Int()
    last_error = Text(nullable=True)
    next_attempt_at = Time(metadata={"description": "下次发送时间；发送中时为领取时间"})
    created_at = Time()
    sent_at = Time(nullable=True)
    subject = Text(nullable=True)
    flat_id = Int(nullable=True)
    flat_label = Text(nullable=True)


# ---------------------------------------------------------------- contribution plans (app.services.plan_views)

class Subsidy(Schema):
    name = Text()
    amount_fen = Int()


class Standard(Schema):
    type = Enum(STANDARDS)
    type_name = Text()
    coefficients = Dict(required=True, allow_none=True, keys=String(), values=String(),
                        metadata={"description": "楼层或房屋 id → 系数（十进制字符串）"})
    default = Text(nullable=True)


class ItemScope(Schema):
    type = Enum(["building", "unit"])
    id = Int()


class PlanItem(Schema):
    key = Text()
    name = Text()
    required = Bool()
    cost_fen = Int()
    subsidies = Many(Subsidy)
    share_fen = Int(metadata={"description": "居民分摊额 = 造价 − 补贴（分）"})
    standard = One(Standard)
    standard_text = Text()
    allow_less = Bool()
    applies_to = One(ItemScope, nullable=True, metadata={"description": "只由这一楼栋或单元分摊；null：方案内全部房屋"})


class MethodName(Schema):
    method = Enum(METHODS)
    name = Text()


class FundingRule(Schema):
    required_items = Bool()
    min_flat_share = Text(nullable=True)
    required_flat_ids = Many(Integer())


class PlanOutcome(Schema):
    funded = Bool()
    decided_at = Time()


class FlatAmount(Schema):
    item = Text()
    name = Text()
    required = Bool()
    amount_fen = Int()
    weight = Text(metadata={"description": "本户权重（精确十进制）"})
    explanation = Text(metadata={"description": "计算过程，例如 面积 × 系数 ÷ 总权重 × 居民分摊"})


class PledgeLine(Schema):
    item = Text()
    name = Text()
    method = Enum(METHODS)
    method_name = Text()
    amount_fen = Int()
    hours = Int(nullable=True)
    note = Text()
    due_fen = Int()
    paid_fen = Int()


class PlanPaymentRecord(Schema):
    id = Int()
    kind = Enum(["payment", "refund"])
    kind_name = Text()
    amount_fen = Int()
    allocation = Dict(required=True, keys=String(), values=Integer(), metadata={"description": "项目 → 分"})
    method = Enum(METHODS)
    method_name = Text()
    paid_on = String(required=True, metadata={"format": "date"})
    reference = Text()
    has_photo = Bool()
    recorded_at = Time()


class PledgePlan(Schema):
    id = Int()
    title = Text()
    status = Enum(PLAN_STATUSES)
    status_name = Text()


class Pledge(Schema):
    id = Int()
    plan = One(PledgePlan)
    flat_id = Int()
    room = Text(nullable=True)
    channel = Enum(CHANNELS)
    channel_name = Text()
    status = Enum(PLEDGE_STATUSES)
    status_name = Text()
    lines = Many(PledgeLine)
    total_fen = Int()
    receipt = Text()
    signed_at = Time()
    confirmed_at = Time(nullable=True)
    content_hash = Text()
    state = Enum(PAYMENT_STATES, nullable=True, metadata={"description": "只对该户当前有效的承诺给出"})
    state_name = Text()
    paid_fen = Int(metadata={"description": "已缴减已退（分）"})
    refunded_fen = Int()
    payments = Many(PlanPaymentRecord)


class PlanFlatPart(Schema):
    flat_id = Int()
    room = Text()
    area = Area()
    floor = Int()
    due_fen = Int()
    items = Many(FlatAmount)
    relation = Text(nullable=True)
    pledged = Bool()
    cannot_pledge = Text(nullable=True, metadata={"description": "为什么现在不能签署（null：可以签署）"})
    signing_for = One(SigningFor, nullable=True, metadata={
        "description": "受托人（relation 为 proxy）代业主承诺时：委托书编号和委托人；否则为 null"})
    pledge = One(Pledge, nullable=True, metadata={"description": "家庭成员和租户看不到承诺内容：null"})
    state = Enum(PAYMENT_STATES)
    state_name = Text()
    paid_fen = Int()


class PlanScope(Schema):
    type = Enum(SCOPES)
    id = Int()
    name = Text(nullable=True)


class Plan(Schema):
    id = Int()
    title = Text()
    body = Text()
    scope = One(PlanScope)
    compound = One(PlaceRef)
    status = Enum(PLAN_STATUSES)
    status_name = Text()
    closes_at = Time()
    opened_at = Time(nullable=True)
    closed_at = Time(nullable=True)
    digest = Text(nullable=True, metadata={"description": "开始时冻结的方案与各户金额的摘要"})
    items = Many(PlanItem)
    methods = Many(MethodName)
    labour_rate_fen = Int(nullable=True)
    funding_rule = One(FundingRule)
    rounding = Text()
    accepting = Bool()
    outcome = One(PlanOutcome, nullable=True)
    flat = One(PlanFlatPart, nullable=True)


class PledgeReceipt(Schema):
    id = Int()
    receipt = Text()
    status = Enum(PLEDGE_STATUSES)
    status_name = Text()
    total_fen = Int()


class PlanTallyItem(Schema):
    key = Text()
    name = Text()
    required = Bool()
    cost_fen = Int()
    subsidy_fen = Int()
    share_fen = Int()
    pledged_fen = Int()
    paid_fen = Int()
    flats_pledging = Int()
    missing_fen = Int()


class PlanTallyMethod(Schema):
    method = Enum(METHODS)
    name = Text()
    pledged_fen = Int()
    paid_fen = Int()


class PlanTallyUnit(Schema):
    id = Int()
    name = Text(nullable=True)
    due_fen = Int()
    pledged_fen = Int()
    paid_fen = Int()
    flats = Int()
    flats_pledging = Int()


class PlanTallyBuilding(PlanTallyUnit):
    units = Many(PlanTallyUnit)


class PlanTallyPlan(Schema):
    id = Int()
    status = Enum(PLAN_STATUSES)
    digest = Text(nullable=True)


class PlanTotals(Schema):
    due_fen = Int()
    pledged_fen = Int()
    paid_fen = Int()
    refunded_fen = Int()
    net_paid_fen = Int()


class PlanFlatCounts(Schema):
    total = Int()
    liable = Int(metadata={"description": "必选项目应分摊金额大于 0 的户数（免于分摊的户不计）"})
    pledging = Int()
    paid = Int()


class PlanPersons(Schema):
    total = Int()
    pledging = Int()


class PlanArea(Schema):
    total = Area()
    pledging = Area()


class FundingPart(Schema):
    part = Enum(["required_items", "min_flat_share", "required_flats"])
    met = Bool()
    text = Text()
    missing = Text()


class StoredOutcome(PlanOutcome):
    digest = Text()
    pledged_fen = Int()


class RefundDue(Schema):
    flat_id = Int()
    room = Text()
    pledge_id = Int(nullable=True)
    net_paid_fen = Int()


class PlanTally(Schema):
    plan = One(PlanTallyPlan)
    target_fen = Int()
    required_target_fen = Int()
    totals = One(PlanTotals)
    items = Many(PlanTallyItem)
    methods = Many(PlanTallyMethod)
    buildings = Many(PlanTallyBuilding)
    flats = One(PlanFlatCounts)
    persons = One(PlanPersons)
    area = One(PlanArea)
    funding_rule = One(FundingRule)
    parts = Many(FundingPart)
    funded = Bool(metadata={"description": "按当前承诺是否已达成；截止后以 outcome 为准"})
    still_missing = Many(String())
    outcome = One(StoredOutcome, nullable=True)
    refunds_due = Many(RefundDue)


class PlanPendingFlat(Schema):
    flat_id = Int()
    room = Text()
    floor = Int()
    area = Area()
    due_fen = Int()
    developer_held = Bool()
    owner = One(MaskedPerson, nullable=True)


# ---------------------------------------------------------------- projects (answers)

class ProjectItem(Schema):
    name = Text()
    level = Enum(LEVELS)
    level_name = Text()


class ProjectPhaseEntry(Schema):
    phase = Enum(PHASES)
    name = Text()
    entered_at = Time(nullable=True)
    by_system = Bool(metadata={"description": "true：系统按条件自动推进"})
    reason = Text(nullable=True)


class ProjectNext(Schema):
    phase = Enum(PHASES)
    name = Text()
    condition = Text()
    met = Bool()
    status = Text()


class AcceptanceRule(Schema):
    share = Text()
    strict = Bool()


class ProjectLinks(Schema):
    plan_consultation_id = Int(nullable=True)
    contribution_plan_id = Int(nullable=True)
    needs_survey_id = Int(nullable=True)
    satisfaction_survey_id = Int(nullable=True)


class ProjectBrief(Schema):
    id = Int()
    title = Text()
    body = Text()
    compound = One(PlaceRef)
    items = Many(ProjectItem)
    budget_fen = Int()
    phase = Enum(PHASES)
    phase_name = Text()
    phases = Many(ProjectPhaseEntry)
    next = One(ProjectNext, nullable=True)
    acceptance_rule = One(AcceptanceRule)
    links = One(ProjectLinks)


class ProjectParticipation(Schema):
    persons = Amount()
    area = Amount()
    met = Bool()


class ProjectConsultation(Schema):
    id = Int()
    title = Text()
    status = Enum(CONSULTATION_STATUSES)
    closes_at = Time()
    passed = Boolean(required=True, allow_none=True, metadata={"description": "公布前为 null"})
    participation = One(ProjectParticipation, nullable=True, metadata={"description": "公布后：参与人数、面积和是否达到"})


class ProjectFunds(Schema):
    plan_id = Int()
    title = Text()
    status = Enum(PLAN_STATUSES)
    target_fen = Int(nullable=True)
    pledged_fen = Int()
    paid_fen = Int()
    flats_pledging = Int()
    flats = Int()


class ProjectReportCounts(Schema):
    total = Int()
    open = Int()
    answered = Int()
    resolved = Int()
    reopened = Int()


class ProjectAcceptance(Schema):
    representatives = Int()
    signed = Int()
    passing = Int(metadata={"description": "签署通过（含附意见）的居民代表人数"})
    passed = Bool()
    defects_open = Int()


class ProjectSurvey(Schema):
    id = Int()
    title = Text()
    status = Text()
    flats = Int(nullable=True)
    answered = Int()
    participation_percent = Raw(required=True, metadata={"oneOf": [{"type": "number"}, {"type": "null"}]})
    rate_percent = Raw(required=True, metadata={"oneOf": [{"type": "number"}, {"type": "null"}],
                                                "description": "满意率（4 分和 5 分的占比），非满意度问卷为 null"})
    mean = Text(nullable=True, metadata={"description": "平均分（两位小数）"})


class Project(ProjectBrief):
    consultation = One(ProjectConsultation, nullable=True)
    funds = One(ProjectFunds, nullable=True)
    reports = One(ProjectReportCounts)
    acceptance = One(ProjectAcceptance)
    needs_survey = One(ProjectSurvey, nullable=True)
    satisfaction = One(ProjectSurvey, nullable=True)


# ---------------------------------------------------------------- surveys (answers)

from app.models.projects import QUESTION_KINDS, SURVEY_KINDS, SURVEY_STATUSES  # noqa: E402
from app.models.projects import TEXT_STATES as SURVEY_TEXT_STATES  # noqa: E402

FRACTION_TEXT = {"pattern": r"^\d+/\d+$"}


def Share(description):  # noqa: N802
    return Text(nullable=True, metadata={"description": description + "；精确分数，例如 37/40；没有基数时为 null",
                                         **FRACTION_TEXT})


def Percent(description="百分比，一位小数，例如 92.5；没有基数时为 null"):  # noqa: N802
    return Text(nullable=True, metadata={"description": description, "pattern": r"^\d+\.\d$"})


class SurveyQuestionOption(Schema):
    key = Text()
    label = Text()


class SurveyQuestion(Schema):
    key = Text(metadata={"description": "题目编号：答案以它为键"})
    kind = Enum(QUESTION_KINDS)
    kind_name = Text()
    text = Text()
    options = Many(SurveyQuestionOption, metadata={"description": "单选、多选题的选项；评分题和文字题为空"})
    required = Bool()


class SurveyScope(Schema):
    type = Enum(SCOPES)
    id = Int()
    name = Text(nullable=True)


SURVEY_ANSWER_VALUE = {"oneOf": [{"type": "string"}, {"type": "integer", "minimum": 1, "maximum": 5},
                                 {"type": "array", "items": {"type": "string"}}]}


class SurveyResponse(Schema):
    """A flat's answer as the residents of the flat see it."""
    id = Int()
    survey_id = Int()
    flat_id = Int()
    answers = Dict(required=True, keys=String(), values=Raw(metadata=SURVEY_ANSWER_VALUE),
                   metadata={"description": "{题目编号: 选项编号 | [选项编号] | 1-5 | 文字}"})
    current = Bool(metadata={"description": "是否为该户计入的答卷（同一户以最后一次为准）"})
    text_state = Enum(SURVEY_TEXT_STATES, nullable=True, metadata={"description": "文字意见的状态；没有文字时为 null"})
    text_state_name = Text(nullable=True)
    review_reason = Text(nullable=True, metadata={"description": "工作人员不予公开的原因（仅在 rejected 时）"})
    by_me = Bool()
    answered_at = Time()


class SurveyFlat(Schema):
    flat_id = Int()
    room = Text(nullable=True)
    relation = Enum(RELATIONS)
    relation_name = Text()
    answered = Bool()
    response = One(SurveyResponse, nullable=True)


class Survey(Schema):
    id = Int()
    title = Text()
    body = Text()
    kind = Enum(SURVEY_KINDS)
    kind_name = Text()
    scope = One(SurveyScope)
    compound = One(PlaceRef)
    project_id = Int(nullable=True)
    questions = Many(SurveyQuestion)
    status = Enum(SURVEY_STATUSES)
    status_name = Text()
    closes_at = Time()
    opened_at = Time(nullable=True)
    closed_at = Time(nullable=True)
    created_at = Time()
    flats = Int(nullable=True, metadata={"description": "开始时范围内的房屋数（参与率的基数）；草稿为 null"})
    answered = Int(metadata={"description": "已作答（计入）的户数"})
    accepting = Bool(metadata={"description": "现在是否接受作答"})
    results_available = Bool(metadata={"description": "您现在能否查看结果（居民：问卷结束后）"})
    flat = One(SurveyFlat, nullable=True, metadata={"description": "请求带 flat_id 且您绑定了该户时：该户的答卷"})


class SurveyText(Schema):
    key = Text()
    question = Text()
    text = Text()


class SurveyTextReview(Schema):
    """An answer's texts as reviewers see them: the room, never a name."""
    id = Int()
    survey_id = Int()
    flat_id = Int()
    room = Text(nullable=True)
    current = Bool()
    texts = Many(SurveyText)
    text_state = Enum(SURVEY_TEXT_STATES, nullable=True)
    text_state_name = Text(nullable=True)
    review_reason = Text(nullable=True)
    reviewed_at = Time(nullable=True)
    answered_at = Time()


class SurveyRef(Schema):
    id = Int()
    title = Text()
    kind = Enum(SURVEY_KINDS)
    kind_name = Text()
    status = Enum(SURVEY_STATUSES)
    status_name = Text()
    closes_at = Time()
    closed_at = Time(nullable=True)


class SurveyParticipation(Schema):
    flats = Int(metadata={"description": "开始时范围内的房屋数"})
    answered = Int(metadata={"description": "已作答（计入）的户数"})
    share = Share("参与率")
    percent = Percent()


class SurveyOptionCount(Schema):
    key = Text()
    label = Text()
    count = Int()
    share = Share("选择该项的户数占回答该题户数的比例")
    percent = Percent()


class SurveyRating(Schema):
    count = Int()
    sum = Int()
    mean = Share("平均分")
    mean_display = Text(nullable=True, metadata={"description": "平均分，两位小数，例如 4.25", "pattern": r"^\d+\.\d{2}$"})
    distribution = Dict(required=True, keys=String(), values=Integer(), metadata={"description": "{\"1\"..\"5\": 户数}"})
    satisfied = Int(metadata={"description": "4 分和 5 分的户数"})
    satisfaction_rate = Share("满意率（4 分和 5 分的占比）")
    satisfaction_percent = Percent()


class SurveyComment(Schema):
    text = Text()
    room = String(metadata={"description": "房号：仅工作人员可见；居民看到的意见没有这一项"})


class SurveyQuestionResult(Schema):
    key = Text()
    kind = Enum(QUESTION_KINDS)
    kind_name = Text()
    text = Text()
    required = Bool()
    answered = Int(metadata={"description": "回答该题的户数"})
    options = Many(SurveyOptionCount, metadata={"description": "单选、多选题；其他为空"})
    rating = One(SurveyRating, nullable=True, metadata={"description": "评分题；其他为 null"})
    comments = Many(SurveyComment, metadata={"description": "文字题已公开的意见（不含姓名）；其他为空"})
    held = Int(metadata={"description": "文字题待审核、暂不公开的意见数"})


class SurveyOverall(Schema):
    ratings = Int(metadata={"description": "全部评分题的评分个数"})
    mean = Share("全部评分的平均分")
    mean_display = Text(nullable=True, metadata={"pattern": r"^\d+\.\d{2}$"})
    satisfied = Int()
    satisfaction_rate = Share("满意率：全部评分中 4 分和 5 分的占比")
    satisfaction_percent = Percent()
    participation = One(SurveyParticipation)


class SurveyResults(Schema):
    survey = One(SurveyRef)
    final = Bool(metadata={"description": "true：问卷已结束，结果不再变化"})
    participation = One(SurveyParticipation)
    questions = Many(SurveyQuestionResult)
    overall = One(SurveyOverall, nullable=True, metadata={"description": "满意度评价的总体满意率和平均分；其他问卷为 null"})
    generated_at = Time()



# ---------------------------------------------------------------- site reports and acceptance (answers)

from app.models.projects import OPINIONS, REPORT_STATUSES, TEXT_STATES  # noqa: E402
from app.services.works import ACTORS, DEFECT_STATUSES, EVENTS  # noqa: E402

REPORT_ACTIONS = ["answer", "release", "reject", "resolve", "reopen"]


class ReportPlace(Schema):
    text = Text(metadata={"description": "地点：楼栋单元名，或居民填写的文字"})
    building = One(PlaceRef, nullable=True)
    unit = One(PlaceRef, nullable=True)


class ReportEvent(Schema):
    event = Enum(EVENTS)
    event_name = Text()
    by = Enum(ACTORS, metadata={"description": "reporter 反映人、supervisor 居民监督员、staff 工作人员"})
    by_name = Text()
    note = Text(nullable=True, metadata={"description": "答复、重新打开或不予公开的原因；他人待审核的原因不显示（null）"})
    at = Time()


class ReportReporter(Schema):
    name = Text(metadata={"description": "反映人（已遮挡，如 张*）"})


class SiteReport(Schema):
    id = Int()
    project_id = Int()
    text = Text()
    place = One(ReportPlace)
    photos = Many(String(), metadata={"description": "照片地址（GET，带登录令牌）"})
    text_state = Enum(TEXT_STATES)
    text_state_name = Text()
    status = Enum(REPORT_STATUSES)
    status_name = Text()
    answer = Text(nullable=True)
    answered_at = Time(nullable=True)
    resolved_at = Time(nullable=True)
    reopened = Int(metadata={"description": "重新打开的次数"})
    created_at = Time()
    mine = Bool()
    by_supervisor = Bool(metadata={"description": "由居民监督员反映"})
    reporter = One(ReportReporter, nullable=True, metadata={"description": "仅工作人员可见；居民看到 null"})
    history = Many(ReportEvent)
    actions = Many(String(validate=OneOf(REPORT_ACTIONS)), metadata={"description": "我现在可以做的操作"})


class SiteReportList(Schema):
    project_id = Int()
    phase = Enum(PHASES)
    phase_name = Text()
    reporting_open = Bool(metadata={"description": "项目处于施工或竣工验收阶段，可以反映问题"})
    can_report = Bool(metadata={"description": "我现在可以反映问题（本小区居民或居民监督员）"})
    staff = Bool()
    counts = One(ProjectReportCounts)
    reports = Many(SiteReport)


class AcceptanceRuleShown(AcceptanceRule):
    text = Text()


class AcceptanceRepresentatives(Schema):
    count = Int()
    names = Many(String(), metadata={"description": "已遮挡的姓名"})
    signed = Int(metadata={"description": "已签署的现任居民代表人数"})


class AcceptanceSignatureShown(Schema):
    id = Int()
    name = Text(metadata={"description": "签署人（已遮挡）"})
    opinion = Enum(OPINIONS)
    opinion_name = Text()
    remarks = Text()
    defects = Many(String())
    signed_at = Time()
    current = Bool(metadata={"description": "签署人仍是本小区的居民代表（计入）"})
    mine = Bool()


class Defect(Schema):
    id = Int()
    text = Text()
    status = Enum(DEFECT_STATUSES)
    status_name = Text()
    note = Text(nullable=True, metadata={"description": "整改说明"})
    resolved_at = Time(nullable=True)
    signature_id = Int()


class AcceptanceDefects(Schema):
    open = Many(Defect)
    resolved = Many(Defect)


class AcceptanceMe(Schema):
    representative = Bool()
    signed = Bool()
    can_sign = Bool()


class Acceptance(Schema):
    project_id = Int()
    phase = Enum(PHASES)
    phase_name = Text()
    signing_open = Bool(metadata={"description": "项目处于竣工验收阶段，可以签署"})
    rule = One(AcceptanceRuleShown)
    representatives = One(AcceptanceRepresentatives)
    signatures = Many(AcceptanceSignatureShown)
    passing = Int(metadata={"description": "签署通过（含附意见）的现任居民代表人数"})
    required = Int(nullable=True, metadata={"description": "通过所需的人数；没有居民代表时为 null"})
    needed = Int(nullable=True, metadata={"description": "还需签署通过的人数"})
    passed = Bool()
    status = Text(metadata={"description": "通过与否及原因"})
    defects = One(AcceptanceDefects)
    me = One(AcceptanceMe)



# ---------------------------------------------------------------- evaluation figures (answers)

from apiflask.fields import Float  # noqa: E402

from app.models.projects import PHASES as _STATS_PHASES  # noqa: E402

_STATS_FRACTION = {"pattern": r"^\d+/[1-9]\d*$"}


def StatsShare():  # noqa: N802
    return String(required=True, allow_none=True, metadata={"description": "精确分数 a/b（已约分）；基数为 0 时为 null",
                                                           **_STATS_FRACTION})


def StatsPercent(description="百分比，四舍五入保留一位小数；基数为 0 时为 null"):  # noqa: N802
    return Float(required=True, allow_none=True, metadata={"description": description})


class StatsNodeRef(Schema):
    type = Enum(["compound", "community", "street", "district"])
    id = Int()
    name = Text()


class StatsNode(Schema):
    type = Enum(["compound", "community", "street", "district"])
    type_name = Text()
    id = Int()
    name = Text()
    parents = Many(StatsNodeRef, metadata={"description": "上级（自区向下）"})


class StatsPart(Schema):
    """Answered of a base (flats or persons), with the exact share and its percent."""
    base = Int()
    answered = Int()
    share = StatsShare()
    percent = StatsPercent()


class StatsAreaPart(Schema):
    base = Area()
    answered = Area()
    share = StatsShare()
    percent = StatsPercent()


class StatsCoverage(Schema):
    compounds = Int(metadata={"description": "范围内小区数"})
    active = Int(metadata={"description": "有在建项目（阶段未到已完成）的小区数"})
    share = StatsShare()
    percent = StatsPercent()
    with_project = Int(metadata={"description": "有任何改造项目的小区数"})
    with_project_share = StatsShare()
    with_project_percent = StatsPercent()


class StatsConsultations(Schema):
    count = Int(metadata={"description": "已开始的征询数"})
    flats = One(StatsPart)
    persons = One(StatsPart)
    area = One(StatsAreaPart)


class StatsCountedFlats(Schema):
    count = Int()
    flats = One(StatsPart)


class StatsParticipation(Schema):
    consultations = One(StatsConsultations)
    plans = One(StatsCountedFlats)
    surveys = One(StatsCountedFlats)
    overall = One(StatsPart, metadata={"description": "三者合计：已参与户次 / 应参与户次"})


class StatsSatisfaction(Schema):
    surveys = Int(metadata={"description": "已开始的满意度评价数"})
    count = Int(metadata={"description": "评分个数（每户每道评分题一个）"})
    distribution = Many(Integer(), metadata={"description": "1 到 5 分各自的个数"})
    mean = StatsPercent("平均分，四舍五入保留两位小数；没有评分时为 null")
    mean_exact = String(required=True, allow_none=True, metadata={"description": "平均分的精确分数", **_STATS_FRACTION})
    satisfied = Int(metadata={"description": "4 分和 5 分的个数"})
    rate = StatsShare()
    rate_percent = StatsPercent()


class StatsPhase(Schema):
    phase = Enum(_STATS_PHASES)
    name = Text()
    count = Int()


class StatsProjects(Schema):
    total = Int()
    active = Int()
    phases = Many(StatsPhase, metadata={"description": "全部七个阶段，依次排列，含 0"})


class StatsFigures(Schema):
    coverage = One(StatsCoverage)
    participation = One(StatsParticipation)
    satisfaction = One(StatsSatisfaction)
    projects = One(StatsProjects)


class StatsChild(Schema):
    type = Enum(["compound", "community", "street"])
    id = Int()
    name = Text()
    figures = One(StatsFigures)


class StatsItem(Schema):
    """A consultation, plan or survey of a compound that opened, with its participation."""
    type = Enum(["consultation", "plan", "survey"])
    type_name = Text()
    id = Int()
    title = Text()
    kind = Text(nullable=True)
    kind_name = Text(nullable=True)
    status = Text()
    status_name = Text()
    flats = One(StatsPart, metadata={"description": "征询：名册户数；方案：方案户数；问卷：开始时范围内户数"})
    persons = One(StatsPart, nullable=True, metadata={"description": "征询的人数（业主人数）；其他为 null"})
    area = One(StatsAreaPart, nullable=True, metadata={"description": "征询的专有面积；其他为 null"})
    satisfaction = One(StatsSatisfaction, nullable=True, metadata={"description": "满意度评价的评分；其他为 null"})


class Stats(Schema):
    node = One(StatsNode)
    generated_at = Time()
    figures = One(StatsFigures)
    children = Many(StatsChild, metadata={"description": "社区的小区、街道的社区、区的街道；小区为空"})
    items = Many(StatsItem, metadata={"description": "小区的征询、出资方案和问卷（已开始的）；其他层级为空"})


def envelope(data, many=False, name=None):
    """The schema `{"data": <data>}`: data a schema class, a list of it (many), or a field (name it)."""
    if isinstance(data, type):
        name = name or f"{data.__name__}{'List' if many else ''}Answer"
        field = Many(data) if many else One(data)
    else:
        field = data
    if name not in _ENVELOPES:
        _ENVELOPES[name] = Schema.from_dict({"data": field}, name=name)
    return _ENVELOPES[name]


# ---------------------------------------------------------------- written proxies (委托书, issue 15)

from app.models.proxies import CHANNELS as PROXY_CHANNELS  # noqa: E402
from app.models.proxies import SCOPES as PROXY_SCOPES  # noqa: E402
from app.models.proxies import STATUSES as PROXY_STATUSES  # noqa: E402


class ProxyScope(Schema):
    type = Enum(PROXY_SCOPES)
    type_name = Text()
    id = Int(nullable=True, metadata={"description": "征询或出资方案的 id；长期委托为 null"})
    title = Text(nullable=True, metadata={"description": "征询或出资方案的标题"})


class ProxyHolder(Schema):
    user_id = Int()
    name = Text(metadata={"description": "受托人的掩码姓名"})


class Proxy(Schema):
    id = Int()
    number = Text(metadata={"description": "委托编号，如 WT7K3M…；证据表中代签的票写明此编号"})
    flat = One(Flat)
    owner = Text(metadata={"description": "委托人（名册业主）的掩码姓名，共有人以“、”分隔"})
    proxy = One(ProxyHolder)
    scope = One(ProxyScope)
    channel = Enum(PROXY_CHANNELS)
    channel_name = Text()
    status = Enum(PROXY_STATUSES)
    status_name = Text()
    created_at = Time()
    confirmed_at = Time(nullable=True)
    revoked_at = Time(nullable=True)
    role = Enum(["holder", "owner", "staff"], metadata={"description": "当前用户与此委托书的关系：受托人、委托业主、工作人员"})
    can_revoke = Bool(metadata={"description": "当前用户现在能否撤销（业主或工作人员，截止前）"})


def answer(data, many=False, status=200, description=None, name=None):
    """`@bp.doc(responses=answer(...))`: the success answer of an operation, documented only."""
    return {status: {
        "description": description or ("已创建" if status == 201 else "成功"),
        "content": {"application/json": {"schema": envelope(data, many, name)}},
    }}


def file(media_type, description):
    """`@bp.doc(responses=file(...))`: a success answer that is a file of this media type."""
    return {200: {"description": description, "content": {media_type: {}}}}
