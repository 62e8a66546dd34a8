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
