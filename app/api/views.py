"""How objects look in answers: minimal personal data, phones masked (DESIGN.md §7)."""
from app.models.bindings import LEVELS, RELATIONS, STATUSES
from app.services.privacy import mask_name, mask_phone


def user_view(user):
    return {
        "id": user.id,
        "name": user.name,
        "phone": mask_phone(user.phone),
        "roles": sorted({r.role for r in user.roles}),
    }


def flat_view(flat):
    unit = flat.unit
    building = unit.building
    return {
        "id": flat.id,
        "room": flat.room,
        "floor": flat.floor,
        "unit": {"id": unit.id, "name": unit.name},
        "building": {"id": building.id, "name": building.name},
        "compound": {"id": building.compound.id, "name": building.compound.name},
        "label": f"{building.compound.name} {building.name}{unit.name}{flat.room}",
    }


def binding_view(binding, for_staff=False):
    view = {
        "id": binding.id,
        "flat": flat_view(binding.flat),
        "relation": binding.relation,
        "relation_name": RELATIONS[binding.relation],
        "status": binding.status,
        "status_name": STATUSES[binding.status],
        "reason": binding.reason,
        "created_at": binding.created_at.isoformat() + "Z",
        "level": binding.level or 1,
        "level_name": LEVELS[binding.level or 1],
        "level_at": binding.level_at.isoformat() + "Z" if binding.level_at else None,
    }
    if for_staff:
        owner = binding.flat.owner
        view["applicant"] = {"name": binding.name, "phone": mask_phone(binding.user.phone)}
        view["roster_owner"] = {"name": mask_name(owner.name), "phone": mask_phone(owner.phone)} if owner else None
        view["method"] = binding.method
    return view
