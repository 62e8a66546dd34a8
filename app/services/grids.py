"""Grids (网格): the buildings of a compound one grid worker serves. The roster's 网格 column sets
them at import; operators list and change them with `flask grid`. Flushes; callers commit."""
from app.extensions import db
from app.models import Building, Compound, Grid


class GridError(Exception):
    """A grid or building that cannot be found or used; the message is Chinese, for people."""


def grids_of(compound):
    """[(grid, [building names])] of the compound by grid id, and the names of buildings in no grid."""
    grids = db.session.scalars(db.select(Grid).where(Grid.compound_id == compound.id).order_by(Grid.id)).all()
    buildings = db.session.scalars(
        db.select(Building).where(Building.compound_id == compound.id).order_by(Building.id)
    ).all()
    members = {g.id: [] for g in grids}
    loose = []
    for b in buildings:
        (members[b.grid_id] if b.grid_id in members else loose).append(b.name)
    return [(g, members[g.id]) for g in grids], loose


def assign(compound, building_names, grid_name):
    """Put the named buildings of the compound into its grid `grid_name`, creating the grid if new.
    Returns (grid, created, moved building names)."""
    grid_name = (grid_name or "").strip()
    if not grid_name:
        raise GridError("网格名称不能为空")
    if len(grid_name) > 64:
        raise GridError("网格名称过长（最多 64 个字）")
    buildings = []
    for name in building_names:
        building = db.session.scalar(db.select(Building).filter_by(compound_id=compound.id, name=name))
        if building is None:
            known = "、".join(db.session.scalars(
                db.select(Building.name).where(Building.compound_id == compound.id).order_by(Building.id)))
            raise GridError(f"小区「{compound.name}」没有楼栋「{name}」（现有：{known or '无'}）")
        buildings.append(building)
    grid = db.session.scalar(db.select(Grid).filter_by(compound_id=compound.id, name=grid_name))
    created = grid is None
    if created:
        grid = Grid(compound=compound, name=grid_name)
        db.session.add(grid)
        db.session.flush()
    moved = []
    for building in buildings:
        if building.grid_id != grid.id:
            building.grid = grid
            moved.append(building.name)
    db.session.flush()
    return grid, created, moved


def find_grid(ref, compound=None):
    """A grid by id ("3") or by name; a name needs the compound unless it is unique everywhere."""
    ref = str(ref).strip()
    if compound is not None:
        grid = db.session.scalar(db.select(Grid).filter_by(compound_id=compound.id, name=ref))
        if grid is None and ref.isdigit():
            grid = db.session.scalar(db.select(Grid).filter_by(compound_id=compound.id, id=int(ref)))
        if grid is None:
            names = "、".join(g.name for g, _ in grids_of(compound)[0])
            raise GridError(f"小区「{compound.name}」没有网格「{ref}」（现有：{names or '无'}）")
        return grid
    if ref.isdigit():
        grid = db.session.get(Grid, int(ref))
        if grid is None:
            raise GridError(f"网格 {ref} 不存在")
        return grid
    found = db.session.scalars(db.select(Grid).where(Grid.name == ref)).all()
    if not found:
        raise GridError(f"没有名为「{ref}」的网格")
    if len(found) > 1:
        where = "、".join(f"{g.compound.name}（grid:{g.id}）" for g in found)
        raise GridError(f"有多个名为「{ref}」的网格：{where}；请加 --compound 指明小区，或用网格编号")
    return found[0]


def find_compound(name):
    """The one compound of that name (GridError if none or several)."""
    found = db.session.scalars(db.select(Compound).where(Compound.name == name)).all()
    if not found:
        raise GridError(f"没有名为「{name}」的小区")
    if len(found) > 1:
        raise GridError(f"有多个名为「{name}」的小区")
    return found[0]
