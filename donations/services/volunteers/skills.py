"""The skills volunteers may offer: a list the admin keeps, seeded on first use.

Until an organisation stores its list (the first sign-up, or the admin's first change),
the form offers the default list; the first write stores it (``ensure_skills``), so a
page that only shows the form writes nothing. Skills are retired (inactive), never
deleted: volunteers who offered one keep it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from donations.extensions import db
from donations.models import User, VolunteerSkill
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotFound

# (name, asks for languages)
DEFAULT_SKILLS = (
    ("Legal", False),
    ("Medical", False),
    ("Counselling", False),
    ("Translation", True),
    ("Driving", False),
    ("Sorting", False),
    ("Events", False),
    ("Grant writing", False),
)
NAME_MAX = 60


def all_skills() -> list[VolunteerSkill]:
    """Every skill of the organisation, active ones first, by name."""
    return list(
        db.session.scalars(
            select(VolunteerSkill).order_by(VolunteerSkill.active.desc(), VolunteerSkill.name)
        )
    )


def offered_skills() -> list[tuple[str, bool]]:
    """The skills the sign-up form offers, (name, asks for languages), by name: the stored
    active ones, or the default list while none is stored."""
    stored = all_skills()
    if not stored:
        return sorted(DEFAULT_SKILLS)
    return [(s.name, s.asks_languages) for s in stored if s.active]


def ensure_skills() -> list[VolunteerSkill]:
    """The organisation's skills; the default list is added (flushed) when it has none yet."""
    skills = all_skills()
    if skills:
        return skills
    for name, asks_languages in DEFAULT_SKILLS:
        db.session.add(VolunteerSkill(name=name, asks_languages=asks_languages))
    db.session.flush()
    return all_skills()


def add_skill(*, actor: User | None, name: str, asks_languages: bool = False) -> VolunteerSkill:
    """Add a skill to the list (or bring a retired one of the same name back)."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("Name the skill.", field="name")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"Use at most {NAME_MAX} characters.", field="name")
    ensure_skills()
    existing = db.session.scalar(
        select(VolunteerSkill).where(func.lower(VolunteerSkill.name) == name.lower())
    )
    if existing is not None:
        if existing.active:
            raise InvalidInput(f"“{existing.name}” is already on the list.", field="name")
        existing.active = True
        skill = existing
    else:
        skill = VolunteerSkill(name=name, asks_languages=asks_languages)
        db.session.add(skill)
    db.session.flush()
    record_audit(
        actor=actor,
        action="volunteer_skill.add",
        object_type="volunteer_skill",
        object_id=skill.id,
        summary=name,
    )
    return skill


def set_skill_active(*, actor: User | None, skill_id: int, active: bool) -> VolunteerSkill:
    """Retire a skill from the sign-up form, or bring it back."""
    skill = db.session.get(VolunteerSkill, skill_id)
    if skill is None:
        raise NotFound("No such skill.")
    skill.active = active
    record_audit(
        actor=actor,
        action="volunteer_skill.activate" if active else "volunteer_skill.retire",
        object_type="volunteer_skill",
        object_id=skill.id,
        summary=skill.name,
    )
    return skill
