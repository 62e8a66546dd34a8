"""The demo compound a newcomer plays with: an old Changsha compound and development staff."""
import random

from flask import current_app

from app.extensions import db
from app.models import Community, Compound, Grid, StaffRole, Street, User
from app.services.roster import import_rows
from app.wechat.dev import dev_openid

COMPOUND, COMMUNITY, STREET, DISTRICT = "阳光里小区", "向阳社区", "东塘街道", "雨花区"
# (building, units, floors, flats per floor)
LAYOUT = [("1栋", 3, 7, 2), ("2栋", 2, 6, 3), ("3栋", 2, 6, 2)]
GRIDS = {"1栋": "第一网格", "2栋": "第一网格", "3栋": "第二网格"}  # the roster's 网格 column
SURNAMES = "李王张刘陈杨黄赵周吴徐孙马胡朱郭何罗高林"
GIVEN = ["建国", "秀英", "桂兰", "志强", "丽华", "国庆", "淑珍", "海燕", "德明", "玉梅", "振华", "春生", "凤英", "卫东", "美玲"]
# One buyer of three flats, recognised by one ID number; three flats still held by the developer.
MULTI_OWNER = ("王秀英", "13900005678", "430111195503120021", {("1栋", "1单元", "301"), ("1栋", "2单元", "502"), ("2栋", "1单元", "201")})
DEVELOPER_HELD = {("3栋", "2单元", "601"), ("3栋", "2单元", "602"), ("2栋", "2单元", "603")}
# The resident the README signs in as: login code dev-zhang, name 张建国, phone ending 1234.
DEMO_RESIDENT = ("zhang", "张建国", "13800001234", ("1栋", "1单元", "101"))
STAFF = [
    ("grid", "刘网格", "grid_worker", "grid"),
    ("committee", "陈委员", "committee", "compound"),
    ("community", "黄社区", "community_staff", "community"),
    ("street", "赵街道", "street_officer", "street"),
    ("treasurer", "钱出纳", "treasurer", "compound"),
]
ELEVATOR_COEFFICIENTS = {"1": "0", "2": "0.6", "3": "0.8", "4": "1.0", "5": "1.2", "6": "1.4", "7": "1.6"}


def roster_rows():
    """The demo roster as sheet rows, so the demo goes through the same import as real rosters."""
    rnd = random.Random(20261126)
    header = ["楼栋", "单元", "房号", "楼层", "面积", "面积来源", "业主姓名", "业主电话", "证件号", "开发商持有", "网格"]
    rows, number = [(1, header)], 1
    for building, units, floors, per_floor in LAYOUT:
        for u in range(1, units + 1):
            for floor in range(1, floors + 1):
                for i in range(1, per_floor + 1):
                    number += 1
                    place = (building, f"{u}单元", f"{floor}{i:02d}")
                    area = f"{rnd.randint(4000, 11000) / 100:.2f}"
                    source = rnd.choice(["不动产登记"] * 8 + ["实测", "合同"])
                    name = rnd.choice(SURNAMES) + rnd.choice(GIVEN)
                    phone = f"13{rnd.randint(0, 9)}{rnd.randint(0, 99999999):08d}"
                    id_number, held = "", "否"
                    if place == DEMO_RESIDENT[3]:
                        name, phone = DEMO_RESIDENT[1], DEMO_RESIDENT[2]
                    elif place in MULTI_OWNER[3]:
                        name, phone, id_number = MULTI_OWNER[:3]
                    elif place in DEVELOPER_HELD:
                        name, phone, held = "", "", "是"
                    rows.append((number, [*place, floor, area, source, name, phone, id_number, held, GRIDS[building]]))
    return rows


def seed(force=False):
    """Write the demo compound (its grids come from the roster's 网格 column, as real rosters' do)
    and the development staff once; returns what was done, in Chinese."""
    if not force and db.session.scalar(db.select(Compound).where(Compound.name == COMPOUND)):
        return "演示数据已存在，跳过"
    report = import_rows(roster_rows(), COMPOUND, community=COMMUNITY, street=STREET, district=DISTRICT)
    compound = db.session.scalar(
        db.select(Compound).join(Community).join(Street)
        .where(Compound.name == COMPOUND, Community.name == COMMUNITY, Street.name == STREET)
    )
    grids = {g.name: g for g in db.session.scalars(db.select(Grid).filter_by(compound_id=compound.id))}
    scopes = {
        "grid": grids["第一网格"].id,
        "compound": compound.id,
        "community": compound.community_id,
        "street": compound.community.street_id,
    }
    appid = current_app.config["WECHAT_APPID"]
    for login, name, role, scope_type in STAFF:
        user = _dev_user(appid, login, name)
        exists = db.session.scalar(
            db.select(StaffRole).filter_by(user_id=user.id, role=role, scope_type=scope_type, scope_id=scopes[scope_type])
        )
        if not exists:
            db.session.add(StaffRole(user=user, role=role, scope_type=scope_type, scope_id=scopes[scope_type]))
    db.session.flush()
    _demo_plan(compound)
    return report.summary() + "；1栋加装电梯出资方案（认筹中）；开发用账号：" + "、".join(f"dev-{s[0]}（{s[1]}）" for s in STAFF)


def _demo_plan(compound):
    """An open contribution plan for 1栋: an elevator per unit shared by floor coefficient × area (the
    ground floor exempt), with subsidies, and a corridor renovation shared equally."""
    from datetime import timedelta

    from app.models.places import utcnow
    from app.services import plans

    committee = _dev_user(current_app.config["WECHAT_APPID"], "committee", "陈委员")
    building = next(b for b in compound.buildings if b.name == "1栋")
    items = [{"key": f"elevator{i}", "name": f"{unit.name}加装电梯", "required": True, "cost_fen": 65_000_000,
              "subsidies": [{"name": "政府补贴", "amount_fen": 20_000_000},
                            {"name": "住宅专项维修资金", "amount_fen": 5_000_000}],
              "standard": {"type": "floor_coefficient", "coefficients": ELEVATOR_COEFFICIENTS},
              "applies_to": {"type": "unit", "id": unit.id}} for i, unit in enumerate(building.units, 1)]
    items.append({"key": "corridor", "name": "楼道粉刷与照明", "required": False, "cost_fen": 3_600_000,
                  "subsidies": [{"name": "公共收益", "amount_fen": 1_080_000}], "standard": {"type": "fixed"},
                  "allow_less": True})
    plan = plans.create(committee, {
        "scope": {"type": "building", "id": building.id}, "title": "1栋加装电梯出资方案",
        "body": "经业主表决同意，1栋每个单元加装一部电梯。电梯造价扣除政府补贴和维修资金后，由各户按楼层系数乘专有面积分摊，"
                "一楼免于分摊。楼道粉刷与照明为自选项目，每户均摊。",
        "items": items, "methods": ["direct", "provident_fund", "maintenance_fund", "labour"], "labour_rate_fen": 3000,
        "funding_rule": {"required_items": True, "min_flat_share": "2/3"},
        "closes_at": utcnow() + timedelta(days=30)})
    plans.open_(committee, plan.id)
    return plan


def _dev_user(appid, login, name):
    openid = dev_openid(appid, login)
    user = db.session.scalar(db.select(User).filter_by(openid=openid))
    if user is None:
        user = User(openid=openid, name=name)
        db.session.add(user)
        db.session.flush()
    return user



def demo_flat_id():
    """The id of the demo resident's flat (1栋1单元101), for the sign-in lines ./scripts/run prints."""
    from app import create_app
    from app.models import Building, Flat, Unit

    with create_app().app_context():
        building, unit, room = DEMO_RESIDENT[3]
        return db.session.scalar(
            db.select(Flat.id).join(Unit).join(Building).join(Compound)
            .where(Compound.name == COMPOUND, Building.name == building, Unit.name == unit, Flat.room == room)
        )
