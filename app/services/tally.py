"""Counting a consultation as the Civil Code does (DESIGN.md §3), with exact fractions only.

`count(roll, votes, rule)` is a pure function: the frozen roll, the answer counted for each
person, and the rule spelled out as thresholds. Everything else (loading, storing) lives in
app.services.consultations.
"""
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

AGREE, DISAGREE, ABSTAIN = "agree", "disagree", "abstain"
CENT = Decimal("0.01")

# Statutory rules: Civil Code art. 278 para. 2. "以上" is >=, "过半数" is >.
PARTICIPATION = [
    {"what": "participate", "measure": "persons", "base": "all", "share": "2/3", "strict": False},
    {"what": "participate", "measure": "area", "base": "all", "share": "2/3", "strict": False},
]
PRESETS = {
    # items 6-8: raising maintenance funds, rebuilding/altering buildings (elevators), changing use
    "major": PARTICIPATION + [
        {"what": "agree", "measure": "persons", "base": "participants", "share": "3/4", "strict": False},
        {"what": "agree", "measure": "area", "base": "participants", "share": "3/4", "strict": False},
    ],
    # every other matter, using maintenance funds included
    "ordinary": PARTICIPATION + [
        {"what": "agree", "measure": "persons", "base": "participants", "share": "1/2", "strict": True},
        {"what": "agree", "measure": "area", "base": "participants", "share": "1/2", "strict": True},
    ],
}
MEASURE_NAMES = {"persons": "人数", "area": "面积", "flats": "户数"}


@dataclass(frozen=True)
class RollFlat:
    flat_id: int
    person_key: str
    area: Decimal
    building_id: int = 0
    unit_id: int = 0
    label: str = ""


def expand_rule(preset="major", thresholds=(), required_consent_flat_ids=(), objection_veto=False,
                objection_notice_id=None):
    """The rule as stored: the preset's thresholds plus local ones, nothing left to interpretation.
    A rule that cannot be counted is a ValueError whose message is Chinese: the API shows it as is.
    objection_notice_id names a 公示 whose visible objections count as explicit objections for the
    veto (only with objection_veto; the key is stored only when named)."""
    if objection_notice_id is not None and not objection_veto:
        raise ValueError("指定了异议公示（objection_notice_id）时须启用明确反对否决（objection_veto）")
    if preset not in PRESETS and preset != "none":
        raise ValueError(f"未知的规则预设 {preset}（应为 major、ordinary 或 none）")
    rows = [dict(t) for t in PRESETS.get(preset, [])]
    for t in thresholds:
        try:
            share = Fraction(t["share"])
            row = {"what": t["what"], "measure": t["measure"], "base": t["base"], "share": str(share),
                   "strict": bool(t.get("strict", False))}
        except KeyError as exc:
            raise ValueError(f"门槛缺少 {exc.args[0]}") from None
        except (ValueError, TypeError, ZeroDivisionError):
            raise ValueError(f"比例 {str(t['share'])[:20]} 应为分数，例如 2/3") from None
        if not 0 < share <= 1:
            raise ValueError(f"比例 {row['share']} 应大于 0 且不超过 1")
        if row["strict"] and share == 1:
            raise ValueError("“超过全部”永远达不到：比例为 1 时不能要求严格超过")
        if row["base"] == "participants" and row["what"] == "participate":
            raise ValueError("参与率应以全体为基数，不能以参与者为基数")
        rows.append(row)
    if not rows:
        raise ValueError("规则至少需要一个门槛")
    rule = {
        "preset": preset,
        "thresholds": rows,
        "required_consent_flat_ids": sorted(set(int(i) for i in required_consent_flat_ids)),
        "objection_veto": bool(objection_veto),
    }
    if objection_notice_id is not None:
        rule["objection_notice_id"] = int(objection_notice_id)
    return rule


def _meets(value, base, share, strict):
    if base == 0:
        return False
    return value > share * base if strict else value >= share * base


def _smallest(bound, strict, integer):
    """The least x (whole, or in cents) with x >= bound, or x > bound when strict; never below 0."""
    scale = 1 if integer else 100
    scaled = bound * scale
    steps = math.floor(scaled) + 1 if strict else math.ceil(scaled)
    steps = max(0, steps)
    return steps if integer else Decimal(steps) / 100


def _needed_of_all(value, base, share, strict, integer):
    """How much more is needed to reach share of a fixed base (all flats, persons or area)."""
    if _meets(value, base, share, strict):
        return _smallest(0, False, integer)
    return _smallest(share * base - value, strict, integer)


def _needed_of_participants(value, base, share, strict, integer):
    """More agreeing participants needed if each newcomer agrees: v + x against share·(b + x)."""
    if _meets(value, base, share, strict):
        return _smallest(0, False, integer)
    if share == 1:
        # Unanimity of participants: once anyone has not agreed, no newcomer can mend it.
        return None if value < base else (1 if integer else CENT)
    bound = (share * base - value) / (1 - share)
    need = _smallest(bound, strict, integer)
    return need or (1 if integer else CENT)  # a base of zero: at least someone has to take part


def count(roll, votes, rule, option_labels=None, objecting_flats=()):
    """The full tally: totals, participation, approval, choices, local conditions, per building.

    roll: [RollFlat]; votes: {person_key: choice} for persons whose ballot counts; objecting_flats:
    ids of flats with a visible objection to the 公示 the rule names (rule["objection_notice_id"]):
    the persons of those flats object explicitly for the veto, whatever they voted.
    """
    option_labels = option_labels or {AGREE: "同意", DISAGREE: "不同意", ABSTAIN: "弃权"}
    persons_area = defaultdict(Decimal)
    persons_flats = defaultdict(int)
    for f in roll:
        persons_area[f.person_key] += f.area
        persons_flats[f.person_key] += 1
    totals = {"persons": len(persons_area), "area": sum(persons_area.values(), Decimal(0)), "flats": len(roll)}

    choices = {key: {"label": label, "persons": 0, "area": Decimal(0), "flats": 0} for key, label in option_labels.items()}
    part = {"persons": 0, "area": Decimal(0), "flats": 0}
    for person, choice in votes.items():
        if person not in persons_area:
            continue  # not on the roll: cannot count
        bucket = choices.setdefault(choice, {"label": choice, "persons": 0, "area": Decimal(0), "flats": 0})
        for target in (bucket, part):
            target["persons"] += 1
            target["area"] += persons_area[person]
            target["flats"] += persons_flats[person]
    agree = choices.get(AGREE, {"persons": 0, "area": Decimal(0), "flats": 0})

    checked = []
    for t in rule["thresholds"]:
        share = Fraction(t["share"])
        value = part[t["measure"]] if t["what"] == "participate" else agree[t["measure"]]
        base = totals[t["measure"]] if t["base"] == "all" else part[t["measure"]]
        met = _meets(Fraction(value), Fraction(base), share, t["strict"])
        integer = t["measure"] != "area"
        needed = (_needed_of_all if t["base"] == "all" else _needed_of_participants)(
            Fraction(value), Fraction(base), share, t["strict"], integer
        )
        checked.append({**t, "value": _num(value), "of": _num(base), "met": met, "needed": _num(needed)})

    def section(what, source):
        rows = [c for c in checked if c["what"] == what]
        return {
            "persons": source["persons"], "area": _num(source["area"]), "flats": source["flats"],
            "met": all(c["met"] for c in rows), "thresholds": rows,
        }

    participation, approval = section("participate", part), section("agree", agree)
    required_ids = set(rule.get("required_consent_flat_ids", []))
    by_flat = {f.flat_id: f for f in roll}
    missing = [by_flat[i].label or str(i) for i in sorted(required_ids) if i not in by_flat or votes.get(by_flat[i].person_key) != AGREE]
    required = {"flats": sorted(required_ids), "missing": missing, "met": not missing}
    objectors = {person for person, choice in votes.items() if choice == DISAGREE and person in persons_area}
    if rule.get("objection_notice_id") is not None:
        objecting = set(objecting_flats)
        objectors |= {f.person_key for f in roll if f.flat_id in objecting}
    objections = len(objectors)
    veto = {"enabled": bool(rule.get("objection_veto")), "objections": objections,
            "met": not (rule.get("objection_veto") and objections > 0)}
    passed = participation["met"] and approval["met"] and required["met"] and veto["met"]
    return {
        "rule": rule,
        "roll": {"flats": totals["flats"], "persons": totals["persons"], "area": _num(totals["area"])},
        "participation": participation,
        "approval": approval,
        "choices": {k: {**v, "area": _num(v["area"])} for k, v in choices.items()},
        "required_consent": required,
        "veto": veto,
        "passed": passed,
        "still_needed": still_needed_text(participation, approval, required, veto),
        "buildings": _breakdown(roll, votes),
    }


def still_needed_text(participation, approval, required=None, veto=None):
    """"参与还差 3 户 / 210.50 m²" for people who plan door visits; also the required consenters
    still missing and an objection that vetoes, so "reached" is said only when the matter passes."""
    parts = []
    for name, section in (("参与", participation), ("同意", approval)):
        if any(c["needed"] is None for c in section["thresholds"]):
            parts.append(f"{name}已无法达到（需全体一致）")
            continue
        persons = max([int(c["needed"]) for c in section["thresholds"] if c["measure"] in ("persons", "flats")] or [0])
        area = max([Decimal(c["needed"]) for c in section["thresholds"] if c["measure"] == "area"] or [Decimal(0)])
        if persons or area:
            parts.append(f"{name}还差 {persons} 户 / {area:.2f} m²")
    if required and not required["met"]:
        parts.append("还需以下房屋同意：" + "、".join(required["missing"]))
    if veto and not veto["met"]:
        parts.append(f"有 {veto['objections']} 户明确反对，按规则本事项不能通过")
    return "；".join(parts) if parts else "已达到表决规则的要求"


def _node(node_id, **extra):
    return {"id": node_id, "flats": 0, "answered": 0, "area": Decimal(0), "answered_area": Decimal(0),
            "choices": defaultdict(int), **extra}


def _breakdown(roll, votes):
    buildings = {}
    for f in roll:
        b = buildings.get(f.building_id)
        if b is None:  # not setdefault: that would build a node for every flat of a 5,000-flat roll
            b = buildings[f.building_id] = _node(f.building_id, units={})
        u = b["units"].get(f.unit_id)
        if u is None:
            u = b["units"][f.unit_id] = _node(f.unit_id)
        choice = votes.get(f.person_key)
        for node in (b, u):
            node["flats"] += 1
            node["area"] += f.area
            if choice is not None:
                node["answered"] += 1
                node["answered_area"] += f.area
                node["choices"][choice] += 1
    out = []
    for b in buildings.values():
        units = [{**u, "area": _num(u["area"]), "answered_area": _num(u["answered_area"]), "choices": dict(u["choices"])}
                 for u in b["units"].values()]
        out.append({**b, "area": _num(b["area"]), "answered_area": _num(b["answered_area"]),
                    "choices": dict(b["choices"]), "units": units})
    return out


def _num(value):
    """Integers stay integers; areas are exact decimal strings ("210.50")."""
    if isinstance(value, Decimal):
        return f"{value.quantize(CENT)}"
    if isinstance(value, Fraction):
        return int(value) if value.denominator == 1 else f"{Decimal(value.numerator) / Decimal(value.denominator):.2f}"
    return value
