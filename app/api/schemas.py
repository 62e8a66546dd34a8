"""Request and response schemas shared by the API blueprints.

Every field is one of app.api.inputs' strict kinds: String (no control characters or lone
surrogates; multiline for free text), Id (a JSON integer of 1 .. 2^31-1; in_query=True for query
strings), DateTime (years 2000-2100, Beijing time when no zone is given). Unknown fields are refused.
"""
from apiflask import Schema
from apiflask.fields import Boolean, Dict, List, Nested
from apiflask.validators import Length, OneOf, Regexp

from app.api.inputs import Date, DateTime, Id, Integer, String

from app.models.bindings import RELATIONS
from app.models.consultations import KINDS
from app.models.contributions import METHODS, STANDARDS
from app.models.projects import LEVELS, PHASES


class CodeIn(Schema):
    code = String(required=True, validate=Length(1, 128))


class BindingIn(Schema):
    flat_id = Id(required=True)
    relation = String(required=True, validate=OneOf(list(RELATIONS), error="应为 owner、family 或 tenant"))
    name = String(required=True, validate=Length(1, 32, error="请填写 1 到 32 个字的姓名"))
    phone_last4 = String(load_default=None, validate=Regexp(r"^\d{4}$", error="应为手机号后 4 位数字"))


class ReasonIn(Schema):
    reason = String(load_default=None, validate=Length(0, 200, error="原因不超过 200 字"))


class BindingQuery(Schema):
    status = String(load_default="pending", validate=OneOf(["pending", "approved", "rejected", "unbound"]))


class ScopeIn(Schema):
    type = String(required=True, validate=OneOf(["compound", "building", "unit"], error="应为 compound、building 或 unit"))
    id = Id(required=True)


class OptionIn(Schema):
    key = String(required=True, validate=Regexp(r"^[a-z_]{1,32}$", error="应为小写英文字母"))
    label = String(required=True, validate=Length(1, 20))


class ThresholdIn(Schema):
    what = String(required=True, validate=OneOf(["participate", "agree"]))
    measure = String(required=True, validate=OneOf(["persons", "area", "flats"]))
    base = String(required=True, validate=OneOf(["all", "participants"]))
    share = String(required=True, validate=Regexp(r"^\d{1,6}/[1-9]\d{0,5}$", error="应为分数，例如 2/3"))
    strict = Boolean(load_default=False)


class RuleIn(Schema):
    preset = String(load_default="major", validate=OneOf(["major", "ordinary", "none"],
                    error="应为 major（第 278 条第 6-8 项）、ordinary（其他事项）或 none"))
    thresholds = List(Nested(ThresholdIn), load_default=[], validate=Length(0, 20))
    required_consent_flat_ids = List(Id(), load_default=[], validate=Length(0, 1000))
    objection_veto = Boolean(load_default=False)
    objection_notice_id = Id(load_default=None, metadata={"description": "其异议计为明确反对的公示（须同时启用 objection_veto）"})
    required_level = Integer(load_default=1, validate=OneOf([1, 2], error="应为 1（名册核验）或 2（网格员当面核验）"),
                             metadata={"description": "线上签署所需的核验等级：1 名册核验（默认）；2 须经网格员当面核验（如加装电梯）"})


class ConsultationIn(Schema):
    scope = Nested(ScopeIn, required=True)
    title = String(required=True, validate=Length(1, 100))
    body = String(load_default="", multiline=True, validate=Length(0, 5000))
    kind = String(load_default="other", validate=OneOf(list(KINDS), error="未知的事项类型"))
    rule = Nested(RuleIn, load_default=lambda: RuleIn().load({}))
    options = List(Nested(OptionIn), load_default=None, validate=Length(2, 20))
    opens_at = DateTime(load_default=None)
    closes_at = DateTime(required=True)


class FlatQuery(Schema):
    flat_id = Id(load_default=None, in_query=True)


class BallotIn(Schema):
    flat_id = Id(required=True)
    choice = String(required=True, validate=Length(1, 32))
    signature = String(required=True)  # size and format: ballots.decode_image (413, 422)


class PaperBallotIn(Schema):
    flat_id = Id(required=True)
    choice = String(required=True, validate=Length(1, 32))
    photo = String(required=True)  # size and format: ballots.decode_image (413, 422)


# ---------------------------------------------------------------- written proxies (委托书, issue 15)


class ProxyScopeIn(Schema):
    type = String(required=True, validate=OneOf(["consultation", "plan", "standing"],
                  error="应为 consultation（一次征询）、plan（一个出资方案）或 standing（长期，直至撤销）"))
    id = Id(load_default=None, metadata={"description": "征询或出资方案的 id；standing 时不填"})


class ProxyIn(Schema):
    flat_id = Id(required=True, metadata={"description": "委托人（业主）绑定的房屋"})
    proxy_user_id = Id(required=True, metadata={"description": "受托人的用户编号（受托人在“我的”页可见）"})
    proxy_name = String(required=True, validate=Length(1, 32),
                        metadata={"description": "受托人姓名，须与其绑定房屋时填写的一致（防止输错编号）"})
    scope = Nested(ProxyScopeIn, required=True)
    signature = String(required=True, metadata={"description": "委托人手写签名，PNG（base64）"})


class PaperProxyIn(Schema):
    flat_id = Id(required=True, metadata={"description": "委托人的房屋"})
    proxy_user_id = Id(required=True, metadata={"description": "受托人的用户编号"})
    proxy_name = String(required=True, validate=Length(1, 32), metadata={"description": "受托人姓名（与其绑定信息一致）"})
    scope = Nested(ProxyScopeIn, required=True)
    photo = String(required=True, metadata={"description": "签字的纸质委托书照片，JPEG 或 PNG（base64）"})


class ProxyQuery(Schema):
    flat_id = Id(load_default=None, in_query=True, metadata={"description": "某户的委托书（该户业主、本范围工作人员）"})


# ---------------------------------------------------------------- contribution plans

FEN = {"minimum": 0, "maximum": 2**31 - 1}
DECIMAL = Regexp(r"^\d{1,3}(\.\d{1,4})?$", error="应为 0 到 100 之间、最多 4 位小数的数，例如 0.6")
FRACTION = Regexp(r"^[1-9]\d{0,5}/[1-9]\d{0,5}$", error="应为分数，例如 2/3")


class SubsidyIn(Schema):
    name = String(required=True, validate=Length(1, 30, error="补贴名称 1 到 30 个字"))
    amount_fen = Integer(required=True, **FEN)


class StandardIn(Schema):
    type = String(required=True, validate=OneOf(list(STANDARDS), error="应为 " + "、".join(STANDARDS)))
    coefficients = Dict(keys=String(validate=Regexp(r"^-?\d{1,10}$", error="键应为楼层（整数）或房屋 id")),
                        values=String(validate=DECIMAL), load_default=None,
                        metadata={"description": "floor_coefficient：{楼层: 系数}；flat_coefficient：{房屋 id: 系数}"})
    default = String(load_default="1", validate=DECIMAL, metadata={"description": "flat_coefficient 未列出房屋的系数"})


class ItemScopeIn(Schema):
    type = String(required=True, validate=OneOf(["building", "unit"], error="应为 building 或 unit"))
    id = Id(required=True)


class PlanItemIn(Schema):
    key = String(load_default=None, validate=Regexp(r"^[a-z0-9_]{1,32}$", error="应为 1 到 32 个小写字母、数字或下划线"))
    name = String(required=True, validate=Length(1, 30, error="项目名称 1 到 30 个字"))
    required = Boolean(load_default=True)
    cost_fen = Integer(required=True, **FEN, metadata={"description": "造价（分）"})
    subsidies = List(Nested(SubsidyIn), load_default=[], validate=Length(0, 10))
    standard = Nested(StandardIn, required=True)
    allow_less = Boolean(load_default=False, metadata={"description": "是否允许承诺少于应缴金额"})
    applies_to = Nested(ItemScopeIn, load_default=None,
                        metadata={"description": "只由方案范围内这一楼栋或单元的房屋分摊（例如每个单元一部电梯）；缺省为全部房屋"})


class FundingRuleIn(Schema):
    required_items = Boolean(load_default=True, metadata={"description": "每个必选项目承诺额不低于居民分摊额"})
    min_flat_share = String(load_default=None, validate=FRACTION,
                            metadata={"description": "承诺户数占应分摊户数的最低比例，例如 2/3"})
    required_flat_ids = List(Id(), load_default=[], validate=Length(0, 1000))


class PlanIn(Schema):
    scope = Nested(ScopeIn, required=True)
    title = String(required=True, validate=Length(1, 100))
    body = String(load_default="", multiline=True, validate=Length(0, 5000))
    items = List(Nested(PlanItemIn), required=True, validate=Length(1, 20))
    methods = List(String(validate=OneOf(list(METHODS))), required=True, validate=Length(1, len(METHODS)))
    labour_rate_fen = Integer(load_default=None, minimum=1, maximum=10**6,
                              metadata={"description": "投工投劳每小时折算金额（分）"})
    funding_rule = Nested(FundingRuleIn, load_default=lambda: FundingRuleIn().load({}))
    closes_at = DateTime(required=True)


class PledgeLineIn(Schema):
    item = String(required=True, validate=Length(1, 32))
    method = String(required=True, validate=OneOf(list(METHODS)))
    amount_fen = Integer(load_default=None, **FEN, metadata={"description": "默认为应缴金额"})
    hours = Integer(load_default=None, minimum=1, maximum=10000, metadata={"description": "投工投劳的工时"})
    note = String(load_default="", validate=Length(0, 100), metadata={"description": "实物等说明"})


class PledgeIn(Schema):
    flat_id = Id(required=True)
    lines = List(Nested(PledgeLineIn), required=True, validate=Length(1, 20))
    signature = String(required=True)  # size and format: ballots.decode_image (413, 422)


class PaperPledgeIn(Schema):
    flat_id = Id(required=True)
    lines = List(Nested(PledgeLineIn), required=True, validate=Length(1, 20))
    photo = String(required=True)


class PaymentIn(Schema):
    amount_fen = Integer(required=True, minimum=1, maximum=2**31 - 1)
    method = String(required=True, validate=OneOf(list(METHODS)))
    paid_on = Date(required=True)
    reference = String(load_default="", validate=Length(0, 64, error="凭证号不超过 64 个字符"))
    item = String(load_default=None, validate=Length(1, 32), metadata={"description": "只登记到该项目；缺省按项目顺序分配"})
    photo = String(load_default=None, metadata={"description": "凭证照片（JPEG/PNG，base64）"})


# ---------------------------------------------------------------- projects (requests)

class ProjectItemIn(Schema):
    name = String(required=True, validate=Length(1, 50, error="改造内容 1 到 50 个字"))
    level = String(required=True, validate=OneOf(list(LEVELS), error="应为 basic（基础类）、improvement（完善类）或 enhancement（提升类）"))


class ProjectLinksIn(Schema):
    plan_consultation_id = Id(load_default=None, metadata={"description": "方案征询（通过后项目进入资金筹集）"})
    contribution_plan_id = Id(load_default=None, metadata={"description": "出资方案（达成后进入施工）"})
    needs_survey_id = Id(load_default=None)
    satisfaction_survey_id = Id(load_default=None)


class ProjectIn(ProjectLinksIn):
    compound_id = Id(required=True)
    title = String(required=True, validate=Length(1, 100))
    body = String(load_default="", multiline=True, validate=Length(0, 5000))
    items = List(Nested(ProjectItemIn), required=True, validate=Length(1, 50))
    budget_fen = Integer(required=True, minimum=0, maximum=2**31 - 1, metadata={"description": "预算（分）"})
    acceptance_share = String(load_default="1/2", validate=FRACTION,
                              metadata={"description": "验收通过所需居民代表比例，例如 1/2"})
    acceptance_strict = Boolean(load_default=True, metadata={"description": "true：须超过该比例；false：达到即可"})


class PhaseIn(Schema):
    phase = String(required=True, validate=OneOf(list(PHASES)))
    reason = String(load_default="", validate=Length(0, 200, error="说明不超过 200 字"))


# ---------------------------------------------------------------- surveys (requests)

from apiflask.fields import Raw  # noqa: E402

from app.models.projects import QUESTION_KINDS, SURVEY_KINDS  # noqa: E402


class SurveyOptionIn(Schema):
    key = String(required=True, validate=Regexp(r"^[a-z0-9_]{1,32}$", error="应为 1 到 32 个小写字母、数字或下划线"))
    label = String(required=True, validate=Length(1, 40, error="选项文字 1 到 40 个字"))


class SurveyQuestionIn(Schema):
    key = String(load_default=None, validate=Regexp(r"^[a-z][a-z0-9_]{0,31}$",
                 error="应为小写字母开头、1 到 32 个小写字母、数字或下划线；不填则按顺序编为 q1、q2……"))
    kind = String(required=True, validate=OneOf(list(QUESTION_KINDS), error="应为 single（单选）、multiple（多选）、"
                                                                           "rating（1-5 分评分）或 text（文字）"))
    text = String(required=True, validate=Length(1, 200, error="题目 1 到 200 个字"))
    options = List(Nested(SurveyOptionIn), load_default=None, validate=Length(0, 20, error="选项不超过 20 个"),
                   metadata={"description": "单选、多选题的 2 到 20 个选项；评分题和文字题不设"})
    required = Boolean(load_default=True)


class SurveyIn(Schema):
    scope = Nested(ScopeIn, required=True)
    project_id = Id(load_default=None, metadata={"description": "关联的改造项目（须为同一小区）"})
    kind = String(load_default="other", validate=OneOf(list(SURVEY_KINDS), error="应为 needs（需求调查）、"
                                                                                 "satisfaction（满意度评价）或 other"))
    title = String(required=True, validate=Length(1, 100, error="标题 1 到 100 个字"))
    body = String(load_default="", multiline=True, validate=Length(0, 5000))
    closes_at = DateTime(required=True)
    questions = List(Nested(SurveyQuestionIn), load_default=None, validate=Length(1, 30, error="问题应为 1 到 30 个"),
                     metadata={"description": "满意度评价不填时使用预设：工程质量、施工管理、环境改善、后续管理、"
                                              "总体满意度五项评分和一项文字意见"})


class SurveyResponseIn(Schema):
    flat_id = Id(required=True)
    answers = Dict(keys=String(validate=Length(1, 64, error="题目编号 1 到 64 个字符")), values=Raw(allow_none=True),
                   required=True, validate=Length(0, 30, error="答案不超过 30 项"),
                   metadata={"description": "{题目编号: 答案}：单选为选项编号，多选为选项编号的列表，评分为 1 到 5 的整数，"
                                            "文字不超过 500 字；选答题可不填或为 null"})


class SurveyRejectIn(Schema):
    reason = String(required=True, validate=Length(1, 200, error="请填写 1 到 200 字的原因"))



# ---------------------------------------------------------------- site reports and acceptance (requests)

class ReportPlaceIn(Schema):
    building_id = Id(load_default=None, metadata={"description": "本小区的楼栋"})
    unit_id = Id(load_default=None, metadata={"description": "本小区的单元（可与所在楼栋一起给出）"})
    text = String(load_default=None, validate=Length(1, 100, error="地点为 1 到 100 个字"),
                  metadata={"description": "或者用文字说明地点（与楼栋/单元二选一）"})


class SiteReportIn(Schema):
    text = String(required=True, multiline=True, validate=Length(1, 1000, error="内容为 1 到 1000 个字"))
    place = Nested(ReportPlaceIn, required=True)
    photos = List(String(), load_default=[], validate=Length(0, 3, error="最多 3 张照片"),
                  metadata={"description": "JPEG/PNG，base64，每张不超过 3 MB"})


class ReportQuery(Schema):
    status = String(load_default=None, validate=OneOf(["open", "answered", "resolved", "reopened"],
                                                      error="应为 open、answered、resolved 或 reopened"))


class ReportAnswerIn(Schema):
    answer = String(required=True, multiline=True, validate=Length(1, 1000, error="答复为 1 到 1000 个字"))


class ReportReasonIn(Schema):
    reason = String(required=True, multiline=True, validate=Length(1, 200, error="原因为 1 到 200 个字"))


class AcceptanceIn(Schema):
    opinion = String(required=True, validate=OneOf(["pass", "pass_with_remarks", "fail"],
                                                   error="应为 pass（通过）、pass_with_remarks（通过，附意见）或 fail（不通过）"))
    remarks = String(load_default="", multiline=True, validate=Length(0, 1000, error="意见不超过 1000 字"))
    defects = List(String(multiline=True, validate=Length(1, 500, error="每项缺陷为 1 到 500 个字")), load_default=[],
                   validate=Length(0, 20, error="缺陷最多 20 项"), metadata={"description": "不通过时必填，逐条列出"})
    signature = String(required=True)  # size and format: ballots.decode_image (413, 422)


class DefectResolveIn(Schema):
    note = String(required=True, multiline=True, validate=Length(1, 500, error="整改说明为 1 到 500 个字"))



# ---------------------------------------------------------------- evaluation figures (requests)

def _node_id_fits(value):
    from marshmallow import ValidationError

    from app.api.inputs import ID_MAX

    number = value.partition(":")[2]
    if number.isascii() and number.isdigit() and int(number) > ID_MAX:
        raise ValidationError(f"编号应为 1 到 {ID_MAX} 之间的整数")


class StatsQuery(Schema):
    node = String(required=True, validate=[
        Regexp(r"^(compound|community|street|district):[1-9][0-9]{0,9}$",
               error="应为 类型:编号，例如 community:12（类型为 compound、community、street 或 district）"),
        _node_id_fits], metadata={"description": "统计范围：compound:编号、community:编号、street:编号 或 district:编号",
                                  "example": "community:1"})
