"""Evaluation figures (效果评价, DESIGN.md §4 flow 8): coverage, participation and satisfaction of one
node of the place tree (a compound, community, street or district), rolled up as the provincial
evaluation uses them: compound → community → street → district.

- coverage: the node's compounds, those with an active project (a phase before done) and those with
  any project;
- participation: of the consultations that opened (flats on the frozen rolls and flats whose person
  has a ballot that counts; by persons and by exclusive area too), of the contribution plans that
  opened (flats and flats pledging), of the surveys that opened (the flats in scope at opening and
  the flats with a counted answer), and overall (answered flats over base flats, the three summed);
- satisfaction: every counted rating (1-5) answer of the satisfaction surveys that opened: how many,
  the mean and the satisfaction rate (share of 4 and 5);
- projects per phase, all seven.

Shares are exact fractions ("a/b") with a percent rounded half up to one decimal, null when the base
is 0. Areas are summed in hundredths of a square metre (integers), so they are exact on SQLite too.

Everything is counted in SQL: a fixed handful of GROUP BY statements over the node's compounds (for a
compound node, over its consultations, plans and surveys), whatever the node's size. Python adds up
one row per compound up the tree; no flat, roll entry, vote slot, pledge or survey response is ever
loaded as a row, so memory does not grow with them.

A closed consultation counts by its stored result (ConsultationResult: the count at closing, written
once with the rule and the roll digest and sealed in its audit chain), summed in SQL from the
result's JSON; only consultations without a result (open ones) are counted from their roll and vote
slots. That is the official figure, and it spares joining every roll entry of past consultations.
A closed contribution plan likewise counts by its stored outcome (PlanResult: flats and flats
pledging at closing).
"""
import io
from functools import partial
import math
from datetime import datetime
import re
from collections import Counter
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Integer, Numeric, and_, case, cast, func, literal_column, select, union_all

from app.errors import ApiError
from app.extensions import db
from app.models import (Community, Compound, Consultation, ConsultationResult, ContributionPlan, District, PlanFlat,
                        PlanResult, RollEntry, Street, VoteSlot)
from app.models.consultations import KINDS as CONSULTATION_KINDS
from app.models.consultations import STATUSES as CONSULTATION_STATUSES
from app.models.contributions import STATUSES as PLAN_STATUSES
from app.models.places import utcnow
from app.models.projects import PHASE_NAMES, PHASES, SURVEY_KINDS, SURVEY_STATUSES, Project, Survey, SurveyResponse
from app.services import scopes
from app.services.consultations import CREATORS

NODE_TYPES = {"compound": "小区", "community": "社区", "street": "街道", "district": "区"}
ITEM_TYPES = {"consultation": "征询", "plan": "出资方案", "survey": "问卷"}
NODE_PATTERN = r"^(compound|community|street|district):[1-9][0-9]{0,9}$"
VIEWERS = CREATORS  # committee (its compound), community staff, street and district officers, admin
NOT_FOUND = "没有找到该统计范围，或它不在您的管辖范围内"
# What "opened" means for each: the roll or the base was frozen, residents could answer.
CONSULTATIONS_OPENED = ("open", "closed", "published")
PLANS_OPENED = ("open", "funded", "not_funded")
SURVEYS_OPENED = ("open", "closed")
RATINGS = (1, 2, 3, 4, 5)
SATISFIED = (4, 5)
# Question keys used in a JSON path ('$."key"'): anything else could not be quoted safely.
SAFE_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


# ---------------------------------------------------------------- shares and numbers


def round_half_up(value: Fraction, places: int) -> float:
    """An exact value rounded half up to `places` decimals, as a JSON number (2/3 → 66.67 at 2)."""
    scale = 10 ** places
    return float(Decimal(math.floor(value * scale + Fraction(1, 2))).scaleb(-places))


def fraction_text(value: Fraction) -> str:
    """Always "a/b", reduced: 2/4 → "1/2", 0 → "0/1", 3 → "3/1"."""
    return f"{value.numerator}/{value.denominator}"


def share(part, base):
    """(exact "a/b", percent with one decimal), or (None, None) when the base is 0."""
    if not base:
        return None, None
    value = Fraction(part, base)
    return fraction_text(value), round_half_up(value * 100, 1)


def part(answered, base):
    text, percent = share(answered, base)
    return {"base": base, "answered": answered, "share": text, "percent": percent}


def area_text(hundredths):
    return f"{Decimal(int(hundredths)).scaleb(-2):.2f}"


def area_part(answered, base):
    """Areas in hundredths of a square metre; shown as exact decimal strings."""
    text, percent = share(answered, base)
    return {"base": area_text(base), "answered": area_text(answered), "share": text, "percent": percent}


def satisfaction(counter, surveys):
    """The figures of pooled rating answers: {1: n1, ..., 5: n5} counted in `counter` as r1..r5."""
    distribution = [counter[f"r{v}"] for v in RATINGS]
    count = sum(distribution)
    total = sum(v * n for v, n in zip(RATINGS, distribution))
    satisfied = sum(counter[f"r{v}"] for v in SATISFIED)
    mean = Fraction(total, count) if count else None
    rate, rate_percent = share(satisfied, count)
    return {
        "surveys": surveys, "count": count, "distribution": distribution,
        "mean": round_half_up(mean, 2) if mean is not None else None,
        "mean_exact": fraction_text(mean) if mean is not None else None,
        "satisfied": satisfied, "rate": rate, "rate_percent": rate_percent,
    }


def figures(c):
    """A node's figures from the sum of its compounds' counters (see _collect for the names)."""
    coverage_share, coverage_percent = share(c["active"], c["compounds"])
    any_share, any_percent = share(c["with_project"], c["compounds"])
    base = c["roll_flats"] + c["plan_flats"] + c["survey_base"]
    answered = c["roll_answered"] + c["plan_pledged"] + c["survey_answered"]
    return {
        "coverage": {
            "compounds": c["compounds"], "active": c["active"], "share": coverage_share, "percent": coverage_percent,
            "with_project": c["with_project"], "with_project_share": any_share, "with_project_percent": any_percent,
        },
        "participation": {
            "consultations": {
                "count": c["consultations"],
                "flats": part(c["roll_answered"], c["roll_flats"]),
                "persons": part(c["persons_answered"], c["roll_persons"]),
                "area": area_part(c["area_answered"], c["roll_area"]),
            },
            "plans": {"count": c["plans"], "flats": part(c["plan_pledged"], c["plan_flats"])},
            "surveys": {"count": c["surveys"], "flats": part(c["survey_answered"], c["survey_base"])},
            "overall": part(answered, base),
        },
        "satisfaction": satisfaction(c, c["satisfaction_surveys"]),
        "projects": {
            "total": sum(c[f"phase:{p}"] for p in PHASES),
            "active": sum(c[f"phase:{p}"] for p in PHASES if p != "done"),
            "phases": [{"phase": p, "name": PHASE_NAMES[p], "count": c[f"phase:{p}"]} for p in PHASES],
        },
    }


# ---------------------------------------------------------------- the node and who may see it


def parse_node(text):
    """"street:12" → ("street", 12); a 422 for anything else (the request schema checks it first)."""
    if not isinstance(text, str) or not re.match(NODE_PATTERN, text):
        raise ApiError(422, "validation_error", "统计范围应为 类型:编号，类型为 compound、community、street 或 district",
                       {"node": ["格式应为 compound:1、community:1、street:1 或 district:1"]})
    kind, _, number = text.partition(":")
    return kind, int(number)


def _node(node_type, node_id):
    """The node's name and the chain of nodes above it, in one statement; None when it does not exist."""
    district = [District.id, District.name]
    if node_type == "district":
        query = select(District.name, *district).where(District.id == node_id)
        levels = ["district"]
    elif node_type == "street":
        query = select(Street.name, Street.id, Street.name, *district).outerjoin(
            District, Street.district_id == District.id).where(Street.id == node_id)
        levels = ["street", "district"]
    elif node_type == "community":
        query = select(Community.name, Community.id, Community.name, Street.id, Street.name, *district).join(
            Street, Community.street_id == Street.id).outerjoin(District, Street.district_id == District.id).where(
            Community.id == node_id)
        levels = ["community", "street", "district"]
    else:
        query = select(Compound.name, Compound.id, Compound.name, Community.id, Community.name, Street.id, Street.name,
                       *district).join(Community, Compound.community_id == Community.id).join(
            Street, Community.street_id == Street.id).outerjoin(District, Street.district_id == District.id).where(
            Compound.id == node_id)
        levels = ["compound", "community", "street", "district"]
    row = db.session.execute(query).first()
    if row is None:
        return None
    name, rest = row[0], row[1:]
    chain, parents = {}, []
    for i, level in enumerate(levels):
        level_id, level_name = rest[2 * i], rest[2 * i + 1]
        if level_id is None:
            continue
        chain[level] = level_id
        if level != node_type:
            parents.insert(0, {"type": level, "id": level_id, "name": level_name})
    return name, chain, parents


def visible_node(user, node_type, node_id):
    """The node's (name, chain, parents) when one of the user's roles covers it: a 403 for someone
    without a role that sees figures, a 404 for a node that is absent or outside every scope."""
    roles = scopes.roles_of(user, *VIEWERS)
    if not roles:
        raise ApiError(403, "forbidden", "统计数据仅限业委会、社区工作人员、街道和区住建干部查看",
                       {"allowed_roles": list(VIEWERS)})
    found = _node(node_type, node_id)
    if found is None or not any(scopes.covers_chain(role, found[1]) for role in roles):
        raise ApiError(404, "not_found", NOT_FOUND)
    return found


# ---------------------------------------------------------------- counting in SQL


def _compound_ids(node_type, node_id):
    """A subquery of the node's compound ids."""
    if node_type == "community":
        return select(Compound.id).where(Compound.community_id == node_id)
    if node_type == "street":
        return select(Compound.id).join(Community, Compound.community_id == Community.id).where(
            Community.street_id == node_id)
    return select(Compound.id).join(Community, Compound.community_id == Community.id).join(
        Street, Community.street_id == Street.id).where(Street.district_id == node_id)


def _tree(node_type, node_id):
    """The node's children [(id, name)] and {compound id: child id}, in one statement."""
    if node_type == "compound":
        return [], {node_id: None}
    if node_type == "community":
        rows = db.session.execute(select(Compound.id, Compound.name, Compound.id).where(
            Compound.community_id == node_id).order_by(Compound.id))
    elif node_type == "street":
        rows = db.session.execute(select(Community.id, Community.name, Compound.id).outerjoin(
            Compound, Compound.community_id == Community.id).where(Community.street_id == node_id)
            .order_by(Community.id, Compound.id))
    else:
        rows = db.session.execute(select(Street.id, Street.name, Compound.id).outerjoin(
            Community, Community.street_id == Street.id).outerjoin(Compound, Compound.community_id == Community.id)
            .where(Street.district_id == node_id).order_by(Street.id, Compound.id))
    children, child_of = {}, {}
    for child_id, child_name, compound_id in rows:
        children.setdefault(child_id, child_name)
        if compound_id is not None:
            child_of[compound_id] = child_id
    return list(children.items()), child_of


def _cents(column):
    """An exact sum of areas, in hundredths (round(): SQLite keeps NUMERIC as a float)."""
    return func.round(column * 100)


def _collect(node_type, node_id, by_item):
    """{group: Counter} over the node: the group is the compound id, or with by_item the item
    ("consultation", id), ("plan", id), ("survey", id) of a compound node. Counters:
    consultations, roll_flats, roll_answered, roll_area, area_answered, roll_persons, persons_answered,
    plans, plan_flats, plan_pledged, surveys, survey_base, survey_answered, satisfaction_surveys,
    r1..r5 (rating answers), phase:<phase> (projects)."""
    if node_type == "compound":
        def in_node(column):
            return column == node_id
    else:
        sub = _compound_ids(node_type, node_id)

        def in_node(column):
            return column.in_(sub)
    out = {}

    def add(key, **values):
        counter = out.setdefault(key, Counter())
        for name, value in values.items():
            counter[name] += int(value or 0)

    # projects per phase (always per compound: a compound node's projects are its own figures)
    for compound_id, phase, n in db.session.execute(
            select(Project.compound_id, Project.phase, func.count()).where(in_node(Project.compound_id))
            .group_by(Project.compound_id, Project.phase)):
        add(compound_id if not by_item else None, **{f"phase:{phase}": n})

    # consultations. A closed one is read from its stored result (the count at closing, written once
    # with the rule and the roll digest, sealed in its audit chain): one row each. Only those without
    # a result (open ones) are counted live: each roll entry with its person's vote slot.
    group = Consultation.id if by_item else Consultation.compound_id
    opened = and_(Consultation.status.in_(CONSULTATIONS_OPENED), in_node(Consultation.compound_id))

    fields = StoredFields(ConsultationResult.tally, {
        "flats": ("roll.flats", "int"), "flats_answered": ("participation.flats", "int"),
        "area": ("roll.area", "area"), "area_answered": ("participation.area", "area"),
        "persons": ("roll.persons", "int"), "persons_answered": ("participation.persons", "int")})
    for g, n, flats, flats_answered, area, area_answered, persons, persons_answered in db.session.execute(
            select(group, func.count(ConsultationResult.id), *[func.sum(c) for c in fields.columns])
            .select_from(fields.joined(ConsultationResult))
            .join(Consultation, Consultation.id == ConsultationResult.consultation_id)
            .where(opened).group_by(group)):
        add(("consultation", g) if by_item else g, consultations=n, roll_flats=flats, roll_answered=flats_answered,
            roll_area=area, area_answered=area_answered, roll_persons=persons, persons_answered=persons_answered)
    live = and_(opened, ConsultationResult.id.is_(None))
    answered = VoteSlot.id.isnot(None)
    for g, n, flats, flats_answered, area, area_answered in db.session.execute(
            select(group, func.count(func.distinct(RollEntry.consultation_id)), func.count(RollEntry.id),
                   func.count(VoteSlot.id), cast(func.sum(_cents(RollEntry.area)), Integer),
                   cast(func.sum(case((answered, _cents(RollEntry.area)), else_=0)), Integer))
            .select_from(RollEntry).join(Consultation, Consultation.id == RollEntry.consultation_id)
            .outerjoin(ConsultationResult, ConsultationResult.consultation_id == Consultation.id)
            .outerjoin(VoteSlot, and_(VoteSlot.consultation_id == RollEntry.consultation_id,
                                      VoteSlot.person_key == RollEntry.person_key, VoteSlot.ballot_id.isnot(None)))
            .where(live).group_by(group)):
        add(("consultation", g) if by_item else g, consultations=n, roll_flats=flats, roll_answered=flats_answered,
            roll_area=area, area_answered=area_answered)
    # ... and their persons: one vote slot per person of the roll
    for g, persons, persons_answered in db.session.execute(
            select(group, func.count(VoteSlot.id), func.count(VoteSlot.ballot_id))
            .select_from(VoteSlot).join(Consultation, Consultation.id == VoteSlot.consultation_id)
            .outerjoin(ConsultationResult, ConsultationResult.consultation_id == Consultation.id)
            .where(live).group_by(group)):
        add(("consultation", g) if by_item else g, roll_persons=persons, persons_answered=persons_answered)

    # contribution plans: flats of the frozen plan, and those with a pledge that counts. A closed plan
    # by its stored outcome (PlanResult: flats total and pledging at closing), an open one live.
    group = ContributionPlan.id if by_item else ContributionPlan.compound_id
    opened = and_(ContributionPlan.status.in_(PLANS_OPENED), in_node(ContributionPlan.compound_id))
    fields = StoredFields(PlanResult.tally, {"flats": ("flats.total", "int"), "pledged": ("flats.pledging", "int")})
    for g, n, flats, pledged in db.session.execute(
            select(group, func.count(PlanResult.id), *[func.sum(c) for c in fields.columns])
            .select_from(fields.joined(PlanResult)).join(ContributionPlan, ContributionPlan.id == PlanResult.plan_id)
            .where(opened).group_by(group)):
        add(("plan", g) if by_item else g, plans=n, plan_flats=flats, plan_pledged=pledged)
    for g, n, flats, pledged in db.session.execute(
            select(group, func.count(func.distinct(PlanFlat.plan_id)), func.count(PlanFlat.id),
                   func.count(PlanFlat.pledge_id))
            .select_from(PlanFlat).join(ContributionPlan, ContributionPlan.id == PlanFlat.plan_id)
            .outerjoin(PlanResult, PlanResult.plan_id == ContributionPlan.id)
            .where(opened, PlanResult.id.is_(None)).group_by(group)):
        add(("plan", g) if by_item else g, plans=n, plan_flats=flats, plan_pledged=pledged)

    # surveys: the flats in scope at opening, and the flats with a counted answer
    group = Survey.id if by_item else Survey.compound_id
    opened = and_(Survey.status.in_(SURVEYS_OPENED), in_node(Survey.compound_id))
    for g, n, base, n_satisfaction in db.session.execute(
            select(group, func.count(Survey.id), func.sum(func.coalesce(Survey.flats, 0)),
                   func.sum(case((Survey.kind == "satisfaction", 1), else_=0)))
            .where(opened).group_by(group)):
        add(("survey", g) if by_item else g, surveys=n, survey_base=base, satisfaction_surveys=n_satisfaction)
    for g, n in db.session.execute(
            select(group, func.count(SurveyResponse.id)).select_from(SurveyResponse)
            .join(Survey, Survey.id == SurveyResponse.survey_id)
            .where(SurveyResponse.current.is_(True), opened).group_by(group)):
        add(("survey", g) if by_item else g, survey_answered=n)

    # satisfaction: every counted answer to a rating question of an opened satisfaction survey
    for g, value, n in _ratings(group, opened):
        add(("survey", g) if by_item else g, **{f"r{value}": n})
    return out


class StoredFields:
    """Numbers read out of a stored result's JSON, each document parsed once: {name: ("a.b", "int" |
    "area")}; an area (a decimal string) is read in hundredths. SQLite reads each path with
    JSON_EXTRACT (cheap there); MySQL/MariaDB, where every JSON_EXTRACT parses the document again,
    reads them all as the columns of one JSON_TABLE joined to the result's table."""

    def __init__(self, column, paths):
        self.column, self.paths = column, paths
        self.sqlite = db.session.get_bind().dialect.name == "sqlite"
        if self.sqlite:
            self.table = None
            self.columns = [self._sqlite(path, kind) for path, kind in paths.values()]
        else:
            spec = ", ".join(f"f{i} {'BIGINT' if kind == 'int' else 'DECIMAL(20, 2)'} PATH '$.{path}'"
                             for i, (path, kind) in enumerate(paths.values()))
            self.table = func.json_table(column, literal_column(f"'$' COLUMNS ({spec})")).table_valued(
                *[f"f{i}" for i in range(len(paths))])
            self.columns = [self.table.c[f"f{i}"] if kind == "int" else _cents(self.table.c[f"f{i}"])
                            for i, (path, kind) in enumerate(paths.values())]

    def _sqlite(self, path, kind):
        value = self.column[tuple(path.split("."))]
        if kind == "int":
            return value.as_integer()
        return cast(_cents(cast(value.as_string(), Numeric(20, 2))), Integer)

    def joined(self, model):
        """The model's table, joined to the JSON_TABLE where there is one (right after it: SQLAlchemy's
        linter on MySQL sees that join)."""
        if self.table is None:
            return model.__table__
        return model.__table__.join(self.table, literal_column("1") == 1)


def _ratings(group, opened):
    """(group, value, count) of the counted rating answers (1-5) of the opened satisfaction surveys.

    Each answer document is parsed once, in SQL. SQLite: json_each() lists its members, and the
    integers under a rating key are grouped by value. MySQL/MariaDB: JSON_TABLE() reads the rating
    keys as columns of JSON text, and each value 1-5 is counted where a column reads exactly that
    integer. Either way only a JSON integer counts: a string "5", 4.5 or true is not a rating.
    The rating keys are those of each survey's rating questions: one SELECT per distinct set of
    them (one in practice: the same template), restricted to its surveys when others use another
    set, all in one UNION ALL."""
    satisfaction = and_(opened, Survey.kind == "satisfaction")
    templates, surveys = {}, set()
    for survey_id, questions in db.session.execute(select(Survey.id, Survey.questions).where(satisfaction)):
        surveys.add(survey_id)
        keys = frozenset(q["key"] for q in questions or [] if isinstance(q, dict) and q.get("kind") == "rating"
                         and isinstance(q.get("key"), str) and SAFE_KEY.match(q["key"]))
        if keys:
            templates.setdefault(keys, set()).add(survey_id)
    if not templates:
        return []
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    parts = []
    for keys, ids in sorted(templates.items(), key=lambda kv: min(kv[1])):
        keys = sorted(keys)
        if sqlite:
            member = func.json_each(SurveyResponse.answers).table_valued("key", "value", "type")
            columns = [member.c.value, func.count()]
            on = and_(SurveyResponse.current.is_(True), member.c.key.in_(keys), member.c.type == "integer")
        else:  # MySQL 8 / MariaDB 10.6+ (keys are SAFE_KEY: letters, digits, _ and -)
            paths = ", ".join(f"""k{i} JSON PATH '$."{key}"'""" for i, key in enumerate(keys))
            member = func.json_table(SurveyResponse.answers, literal_column(f"'$' COLUMNS ({paths})")).table_valued(
                *[f"k{i}" for i in range(len(keys))])
            columns = [func.sum(sum(case((member.c[f"k{i}"] == str(v), 1), else_=0) for i in range(len(keys))))
                       for v in RATINGS]
            on = SurveyResponse.current.is_(True)
        # (the function right after the table it reads: SQLAlchemy's linter on MySQL sees the join then)
        query = (select(group, *columns).select_from(SurveyResponse).join(member, on)
                 .join(Survey, Survey.id == SurveyResponse.survey_id).where(satisfaction))
        if ids != surveys:
            query = query.where(SurveyResponse.survey_id.in_(sorted(ids)))
        parts.append(query.group_by(group, member.c.value) if sqlite else query.group_by(group))
    out = []
    for row in db.session.execute(parts[0] if len(parts) == 1 else union_all(*parts)):
        if sqlite:
            g, value, n = row
            if value in RATINGS:
                out.append((g, value, n))
        else:
            out += [(row[0], v, int(n or 0)) for v, n in zip(RATINGS, row[1:])]
    return out


def _items(compound_id, counters):
    """A compound's consultations, plans and surveys that opened, each with its figures (3 statements)."""
    rows = []
    for c in db.session.execute(select(Consultation.id, Consultation.title, Consultation.kind, Consultation.status)
                                .where(Consultation.compound_id == compound_id,
                                       Consultation.status.in_(CONSULTATIONS_OPENED)).order_by(Consultation.id)):
        k = counters.get(("consultation", c.id), Counter())
        rows.append(_item("consultation", c.id, c.title, c.kind, CONSULTATION_KINDS.get(c.kind, c.kind), c.status,
                          CONSULTATION_STATUSES.get(c.status, c.status),
                          part(k["roll_answered"], k["roll_flats"]), persons=part(k["persons_answered"], k["roll_persons"]),
                          area=area_part(k["area_answered"], k["roll_area"])))
    for p in db.session.execute(select(ContributionPlan.id, ContributionPlan.title, ContributionPlan.status)
                                .where(ContributionPlan.compound_id == compound_id,
                                       ContributionPlan.status.in_(PLANS_OPENED)).order_by(ContributionPlan.id)):
        k = counters.get(("plan", p.id), Counter())
        rows.append(_item("plan", p.id, p.title, None, None, p.status, PLAN_STATUSES.get(p.status, p.status),
                          part(k["plan_pledged"], k["plan_flats"])))
    for s in db.session.execute(select(Survey.id, Survey.title, Survey.kind, Survey.status)
                                .where(Survey.compound_id == compound_id, Survey.status.in_(SURVEYS_OPENED))
                                .order_by(Survey.id)):
        k = counters.get(("survey", s.id), Counter())
        rows.append(_item("survey", s.id, s.title, s.kind, SURVEY_KINDS.get(s.kind, s.kind), s.status,
                          SURVEY_STATUSES.get(s.status, s.status), part(k["survey_answered"], k["survey_base"]),
                          satisfaction=satisfaction(k, 1) if s.kind == "satisfaction" else None))
    return rows


def _item(kind, item_id, title, subkind, subkind_name, status, status_name, flats, persons=None, area=None,
          satisfaction=None):
    return {"type": kind, "type_name": ITEM_TYPES[kind], "id": item_id, "title": title, "kind": subkind,
            "kind_name": subkind_name, "status": status, "status_name": status_name, "flats": flats,
            "persons": persons, "area": area, "satisfaction": satisfaction}


def _compound_counter(counter):
    """Coverage counters of one compound from its phase counts."""
    active = any(counter[f"phase:{p}"] for p in PHASES if p != "done")
    counter["compounds"] = 1
    counter["active"] = int(active)
    counter["with_project"] = int(any(counter[f"phase:{p}"] for p in PHASES))
    return counter


def stats(user, node_type, node_id):
    """The figures of a node the user's scope covers, and its children's rows: compounds of a
    community, communities of a street, streets of a district; for a compound, its consultations,
    plans and surveys that opened. A constant number of statements whatever the node's size."""
    name, _, parents = visible_node(user, node_type, node_id)
    children, child_of = _tree(node_type, node_id)
    by_item = node_type == "compound"
    counters = _collect(node_type, node_id, by_item)
    if by_item:
        items = _items(node_id, counters)
        total = _compound_counter(counters.get(None, Counter()))
        for key, counter in counters.items():
            if key is not None:
                total.update({k: v for k, v in counter.items() if not k.startswith("phase:")})
        child_rows = []
    else:
        items = []
        per_child = {child_id: Counter() for child_id, _ in children}
        total = Counter()
        for compound_id, child_id in child_of.items():
            counter = _compound_counter(counters.get(compound_id, Counter()))
            per_child[child_id].update(counter)
            total.update(counter)
        child_type = {"community": "compound", "street": "community", "district": "street"}[node_type]
        child_rows = [{"type": child_type, "id": child_id, "name": child_name, "figures": figures(per_child[child_id])}
                      for child_id, child_name in children]
    return {
        "node": {"type": node_type, "type_name": NODE_TYPES[node_type], "id": node_id, "name": name,
                 "parents": parents},
        "generated_at": utcnow().isoformat() + "Z",
        "figures": figures(total),
        "children": child_rows,
        "items": items,
    }


# ---------------------------------------------------------------- the Excel table


PERCENT_FORMAT = "0.0"
AREA_FORMAT = "0.00"
COLUMNS = [
    # (heading, width, how to read it from a row's figures or item, number format)
    ("层级", 8), ("名称", 26),
    ("小区数", 8), ("在建项目小区数", 10), ("覆盖率（%）", 10), ("有项目小区数", 10), ("有项目比例（%）", 10),
    ("征询数", 8), ("征询应参与户数", 10), ("征询已参与户数", 10), ("征询参与率·户（%）", 10),
    ("征询应参与人数", 10), ("征询已参与人数", 10), ("征询参与率·人（%）", 10),
    ("征询总面积（㎡）", 13), ("已参与面积（㎡）", 13), ("征询参与率·面积（%）", 10),
    ("出资方案数", 8), ("方案户数", 10), ("已承诺户数", 10), ("承诺率（%）", 10),
    ("问卷数", 8), ("问卷基数户数", 10), ("已答卷户数", 10), ("答卷率（%）", 10),
    ("综合基数户数", 10), ("综合已参与户数", 10), ("综合参与率（%）", 10),
    ("满意度评价数", 10), ("评分个数", 9), ("平均分", 8), ("满意（4-5 分）个数", 10), ("满意率（%）", 10),
    ("项目总数", 8),
] + [(f"项目·{PHASE_NAMES[p]}", 9) for p in PHASES]


def _row_cells(level, name, f):
    """The cells of a node row: its level, name and every figure (no fractions: counts beside each rate)."""
    cov, par, sat, pro = f["coverage"], f["participation"], f["satisfaction"], f["projects"]
    c, p, s, o = par["consultations"], par["plans"], par["surveys"], par["overall"]
    return [
        (level, None), (name, None),
        (cov["compounds"], None), (cov["active"], None), (cov["percent"], PERCENT_FORMAT),
        (cov["with_project"], None), (cov["with_project_percent"], PERCENT_FORMAT),
        (c["count"], None), (c["flats"]["base"], None), (c["flats"]["answered"], None), (c["flats"]["percent"], PERCENT_FORMAT),
        (c["persons"]["base"], None), (c["persons"]["answered"], None), (c["persons"]["percent"], PERCENT_FORMAT),
        (Decimal(c["area"]["base"]), AREA_FORMAT), (Decimal(c["area"]["answered"]), AREA_FORMAT),
        (c["area"]["percent"], PERCENT_FORMAT),
        (p["count"], None), (p["flats"]["base"], None), (p["flats"]["answered"], None), (p["flats"]["percent"], PERCENT_FORMAT),
        (s["count"], None), (s["flats"]["base"], None), (s["flats"]["answered"], None), (s["flats"]["percent"], PERCENT_FORMAT),
        (o["base"], None), (o["answered"], None), (o["percent"], PERCENT_FORMAT),
        (sat["surveys"], None), (sat["count"], None), (sat["mean"], "0.00"), (sat["satisfied"], None),
        (sat["rate_percent"], PERCENT_FORMAT),
        (pro["total"], None),
    ] + [(ph["count"], None) for ph in pro["phases"]]


def _item_cells(item):
    """An item row of a compound: only the columns of its kind are filled."""
    cells = [(None, None)] * len(COLUMNS)
    cells[0], cells[1] = (item["type_name"], None), (f"{item['title']}（{item['status_name']}）", None)
    flats = item["flats"]
    start = {"consultation": 8, "plan": 18, "survey": 22}[item["type"]]
    cells[start:start + 3] = [(flats["base"], None), (flats["answered"], None), (flats["percent"], PERCENT_FORMAT)]
    cells[25:28] = cells[start:start + 3]  # its participation is the overall one of the item
    if item["type"] == "consultation":
        cells[7] = (1, None)
        persons, area = item["persons"], item["area"]
        cells[11:17] = [(persons["base"], None), (persons["answered"], None), (persons["percent"], PERCENT_FORMAT),
                        (Decimal(area["base"]), AREA_FORMAT), (Decimal(area["answered"]), AREA_FORMAT),
                        (area["percent"], PERCENT_FORMAT)]
    else:
        cells[start - 1] = (1, None)
    sat = item.get("satisfaction")
    if sat:
        cells[28:33] = [(1, None), (sat["count"], None), (sat["mean"], "0.00"), (sat["satisfied"], None),
                        (sat["rate_percent"], PERCENT_FORMAT)]
    return cells


def stats_xlsx(result):
    """The node's row first, then its children's (or a compound's consultations, plans and surveys),
    one column per figure with Chinese headings. Write-only (rows streamed); no cell is a formula:
    text is stored as text, and text Excel would read as a formula gets its quote prefix."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from app.services.plan_documents import beijing

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("效果评价")
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDDDDD")
    node_fill = PatternFill("solid", fgColor="F2F2F2")
    wrap = Alignment(wrap_text=True, vertical="center")

    from app.services import sheets

    cell = partial(sheets.cell, ws)

    node = result["node"]
    path = " / ".join([p["name"] for p in node["parents"]] + [node["name"]])
    header = [
        ("统计范围", f"{node['type_name']}：{path}"),
        ("生成时间（北京时间）", beijing(datetime.fromisoformat(result["generated_at"].rstrip("Z")), "%Y-%m-%d %H:%M:%S")),
        ("说明", "覆盖率：有在建项目（未完成）的小区占比；参与率：已开始的征询、出资方案、问卷中已参与的户（人、面积）"
                 "占应参与的比例；满意率：满意度评价中 4 分、5 分的评分占全部评分的比例；比例按四舍五入保留一位小数。"),
    ]
    head_row = len(header) + 3
    for i, (_, width) in enumerate(COLUMNS, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"C{head_row + 1}"
    ws.print_title_rows = f"{head_row}:{head_row}"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0

    ws.append([cell(f"效果评价统计：{node['name']}", font=Font(bold=True, size=14))])
    for label, value in header:
        ws.append([cell(label, font=bold), cell(value)])
    ws.append([])
    ws.append([cell(heading, font=bold, fill=head_fill, alignment=wrap) for heading, _ in COLUMNS])
    ws.append([cell(v, fmt, bold, node_fill) for v, fmt in _row_cells(node["type_name"], node["name"], result["figures"])])
    for child in result["children"]:
        ws.append([cell(v, fmt) for v, fmt in _row_cells(NODE_TYPES[child["type"]], child["name"], child["figures"])])
    for item in result["items"]:
        ws.append([cell(v, fmt) for v, fmt in _item_cells(item)])
    wb.properties.title = f"效果评价统计：{node['name']}"
    wb.properties.creator = "共建"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(result):
    from urllib.parse import quote

    node = result["node"]
    title = re.sub(r'[\\/:*?"<>|\s]+', "_", node["name"]).strip("_") or NODE_TYPES[node["type"]]
    ascii_name = f"stats-{node['type']}-{node['id']}.xlsx"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(f'效果评价-{title}.xlsx', safe='')}"
