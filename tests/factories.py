"""Test data in one line: places, flats and owners with unique names from a sequence."""
import itertools
from decimal import Decimal

from app.extensions import db
from app.models import Building, Community, Compound, Flat, Grid, Owner, Street, Unit

_seq = itertools.count(1)


def compound(name=None, buildings=(("1栋", 2, 3, 2),), area="80.00"):
    """A compound with buildings given as (name, units, floors, flats per floor); one owner per flat."""
    n = next(_seq)
    street = Street(name=f"测试街道{n}")
    community = Community(name=f"测试社区{n}", street=street)
    comp = Compound(name=name or f"测试小区{n}", community=community)
    db.session.add(comp)
    for bname, units, floors, per_floor in buildings:
        building = Building(name=bname, scene=f"b{n}x{bname.encode().hex()[:8]}")
        comp.buildings.append(building)
        for u in range(1, units + 1):
            unit = Unit(name=f"{u}单元")
            building.units.append(unit)
            for floor in range(1, floors + 1):
                for i in range(1, per_floor + 1):
                    owner = Owner(name=f"业主{next(_seq)}", phone=f"139{next(_seq):08d}")
                    unit.flats.append(
                        Flat(room=f"{floor}{i:02d}", floor=floor, area=Decimal(area), area_source="registry", owner=owner)
                    )
    db.session.flush()
    return comp


def grid(comp, buildings, name=None):
    g = Grid(compound=comp, name=name or f"网格{next(_seq)}")
    for b in buildings:
        b.grid = g
    db.session.add(g)
    db.session.flush()
    return g


def user(name):
    """The WeChat user the emulator signs in as dev-<name> (so the `login` fixture reaches them)."""
    from app.models import User
    from app.wechat.dev import dev_openid
    from config import TestingConfig

    openid = dev_openid(TestingConfig.WECHAT_APPID, name)
    found = db.session.scalar(db.select(User).filter_by(openid=openid))
    if found is None:
        found = User(openid=openid, name=name)
        db.session.add(found)
        db.session.flush()
    return found


def staff(name, role, scope_type=None, scope_id=None):
    """dev-<name> holding one scoped staff role."""
    from app.services.scopes import grant

    person = user(name)
    grant(person, role, scope_type, scope_id)
    return person


def resident(name, flat):
    """dev-<name> bound as the owner of flat, as if the roster matched."""
    person = user(name)
    bind_owner(person, flat)
    return person


def consultation(scope, by=None, preset="major", hours=24, open_=True, **rule):
    """A consultation over scope ("compound" | "building" | "unit", obj), opened unless told not to."""
    from datetime import timedelta

    from app.models.places import utcnow
    from app.services import consultations as service

    kind, obj = scope
    by = by or staff(f"admin{next(_seq)}", "admin")
    c = service.create(by, {
        "scope": {"type": kind, "id": obj.id}, "title": f"征询{next(_seq)}", "kind": "elevator",
        "rule": {"preset": preset, **rule}, "closes_at": utcnow() + timedelta(hours=hours),
    })
    if open_:
        service.open_(by, c.id)
    return c


def signature_png(width=240, height=90):
    """A handwritten-looking signature as base64 PNG, as the mini-program's canvas exports it."""
    import base64
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    draw = ImageDraw.Draw(img)
    draw.line([(10, 60), (60, 20), (110, 70), (160, 25), (220, 55)], fill=(0, 0, 0, 255), width=4)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def bind_owner(user, flat):
    """An approved owner binding, as if the roster matched."""
    from app.models import Binding

    from app.services.bindings import record_approval

    binding = Binding(user=user, flat=flat, relation="owner", name=flat.owner.name if flat.owner else "业主",
                      status="approved", method="roster_phone", owner_id=flat.owner_id)
    db.session.add(binding)
    db.session.flush()
    record_approval(binding)
    return binding
