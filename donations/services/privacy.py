"""Keeping the people the organisation serves out of the records.

``check_free_text`` screens every free-text note on goods forms, pledges and
imports before it is stored: a person-like name (two capitalised words next to
each other, one of them a known given name), an email address or a phone
number is refused with a message that says why. Names of drives and donors are
not screened: they are not the people served.

``scan_stored_text`` finds what was stored before the screen existed (or what
it would refuse today); ``redact`` replaces such a text with "[redacted]". It
is the one allowed edit of an append-only document, and the audit log records
that it happened, never what was removed.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from sqlalchemy import select, update

from donations.extensions import db
from donations.models import (
    ContributedService,
    GoodsRequest,
    Pledge,
    Recipient,
    StockDocument,
    User,
    utcnow,
)
from donations.services.audit import record_audit
from donations.services.errors import InvalidInput, NotFound

SCREEN_MESSAGE = "Don't write the names or contact details of the people you serve."
REDACTED = "[redacted]"

# Words that sit next to a given name in ordinary notes without making a person's
# name: "Hope Center", "Grace House", "Monday Mark" ... (lower case).
_NOT_A_SURNAME_WORDS = """
    a an and the of for from to with by at in on or our we my your his her their its this that
    these those please thanks thank hi hello dear per via new used good all each every no not
    house home homes center centre street st avenue ave road rd lane ln drive boulevard blvd
    way court plaza square place hall park village city county town hill heights valley lake
    river bay harbor harbour point springs beach island mountain shelter clinic program
    programme church chapel school academy high college university hospital services service
    ministries ministry foundation project team office bank pantry closet market store shop
    mall club society fund alliance network coalition partners partner agency outreach
    residence residents haven legal aid health care women youth family families kids children
    community united group support coat coats drive kit kits box boxes bag bags room rooms
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december christmas easter thanksgiving
    morning afternoon evening night week month year today yesterday tomorrow
    """
_NOT_A_SURNAME = frozenset(_NOT_A_SURNAME_WORDS.split())
# Given names that are far more often an ordinary word in a note.
_NOT_A_GIVEN_NAME = frozenset({"an", "el", "lot", "la", "le", "de", "da", "di", "al", "van"})
# Lower-case parts of family names: "de la Cruz", "van der Berg", "bin Khalid".
_PARTICLES = frozenset(
    {"de", "del", "della", "la", "las", "los", "van", "von", "der", "den", "da", "do", "dos"}
    | {"das", "di", "du", "le", "bin", "ibn", "al", "el", "y", "e"}
)
_WORD_RE = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_HONORIFIC_RE = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Sr|Sra|Srta|Mme|Mlle)\.?\s+[^\W\d_]{2,}", re.UNICODE
)
_EMAIL_RE = re.compile(r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*\.\s*[\w-]+)+")
_HANDLE_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{2,}")
_PHONE_RE = re.compile(r"(?<![\w+])\+?\(?\d[\d\s().-]{5,}\d(?!\w)")
_DATE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}")


def _fold(word: str) -> str:
    """Lower case without accents: "María" -> "maria"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def given_names() -> frozenset[str]:
    """The shipped list of common given names, lower case and without accents."""
    text = files("donations").joinpath("data/given_names.txt").read_text(encoding="utf-8")
    names = {_fold(line.strip()) for line in text.splitlines() if line and line[0] != "#"}
    return frozenset(names - _NOT_A_GIVEN_NAME)


def is_given_name(word: str) -> bool:
    """Whether the word, or a part of a hyphenated one ("Ana-Maria"), is a given name."""
    names = given_names()
    return _fold(word) in names or any(
        _fold(part) in names for part in re.split(r"['\u2019-]", word) if len(part) > 1
    )


def _capitalised(word: str) -> bool:
    return word[:1].isupper()


def _looks_like_full_name(text: str) -> bool:
    words = list(_WORD_RE.finditer(text))
    for index, first in enumerate(words):
        # "Maria de la Cruz", "Ahmed bin Khalid": a given name, particles, a capitalised word.
        following = [w.group() for w in words[index + 1 : index + 5]]
        if _capitalised(first.group()) and is_given_name(first.group()) and following:
            rest = itertools.dropwhile(lambda w: w.lower() in _PARTICLES, following)
            surname = next(rest, "")
            if following[0].lower() in _PARTICLES and surname and _capitalised(surname):
                return True
    for first, second in itertools.pairwise(words):
        gap = text[first.end() : second.start()]
        if gap.strip() not in ("", "."):  # "Maria Lopez", "Maria L. Lopez"
            continue
        a, b = first.group(), second.group()
        if not (_capitalised(a) and _capitalised(b)):
            continue
        if len(a) == 1 or len(b) == 1:  # an initial: "Maria L." names a person
            given = b if len(a) == 1 else a
            if is_given_name(given) and _fold(given) not in _NOT_A_SURNAME:
                return True
            continue
        if is_given_name(a) and _fold(b) not in _NOT_A_SURNAME:
            return True
        if is_given_name(b) and _fold(a) not in _NOT_A_SURNAME:
            return True
    return bool(_HONORIFIC_RE.search(text))


def _looks_like_phone(text: str) -> bool:
    for match in _PHONE_RE.finditer(text):
        candidate = match.group().strip()
        if _DATE_RE.fullmatch(candidate):
            continue
        digits = re.sub(r"\D", "", candidate)
        separated = re.search(r"[\s().-]", candidate) is not None or candidate.startswith("+")
        if 7 <= len(digits) <= 15 and (separated or len(digits) >= 10):
            return True
    return False


def personal_details(text: str) -> list[str]:
    """Return what in ``text`` could identify a person served, in words; [] when nothing."""
    found = []
    if _looks_like_full_name(text):
        found.append("a person's name")
    if _EMAIL_RE.search(text) or _HANDLE_RE.search(text):
        found.append("an email address")
    if _looks_like_phone(text):
        found.append("a phone number")
    return found


def screen_message(found: list[str]) -> str:
    what = " and ".join(found)
    return f"{SCREEN_MESSAGE} This looks like {what}; describe the goods or the program instead."


def check_free_text(text: str, *, field: str = "note") -> str:
    """Return ``text`` unchanged, or refuse it if it holds a name or contact details."""
    found = personal_details(text or "")
    if found:
        raise InvalidInput(screen_message(found), field=field)
    return text


def name_in_code(code: str) -> bool:
    """Whether a short code holds a given name: "MARIA-12", "MariaLopez"."""
    parts = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", code)
    for part in parts:
        if len(part) >= 3 and is_given_name(part):
            return True
        # "MARIALOPEZ": a run of capitals that starts with a given name.
        if part.isupper() and any(is_given_name(part[:n]) for n in range(4, len(part))):
            return True
    return False


# --- what was stored before -----------------------------------------------------------


KINDS = ("document", "pledge", "recipient", "goods_request", "service")
# A partner's note and a staff decline reason: the texts of a goods request.
_REQUEST_TEXTS = ("note", "decline_reason")
# What a professional did, and why its acknowledgement was voided: a service's texts.
_SERVICE_TEXTS = ("description", "void_reason")


@dataclass(frozen=True)
class Finding:
    kind: str  # document | pledge | recipient | goods_request | service
    id: int
    field: str
    label: str  # "D-000012", "Pledge #4", "Program #3", "R-000012", "PB-2026-0003"
    reasons: tuple[str, ...]
    parent_id: int | None = None  # the page it is read on, when not its own (a volunteer's)


def scan_stored_text() -> list[Finding]:
    """List stored notes, case codes, recipient names, goods requests' texts (a partner's
    note, a decline reason) and professional services' texts (what was done, why the
    acknowledgement was voided) the screen would refuse today."""
    findings: list[Finding] = []
    rows = db.session.execute(
        select(StockDocument.id, StockDocument.note, StockDocument.case_code)
        .where((StockDocument.note != "") | (StockDocument.case_code != ""))
        .where(StockDocument.note != REDACTED)
        .order_by(StockDocument.id)
    )
    for document_id, note, case_code in rows:
        found = personal_details(note or "")
        if found:
            findings.append(
                Finding("document", document_id, "note", f"D-{document_id:06d}", tuple(found))
            )
        if case_code and case_code != REDACTED and name_in_code(case_code):
            findings.append(
                Finding(
                    "document",
                    document_id,
                    "case_code",
                    f"D-{document_id:06d}",
                    ("a person's name",),
                )
            )
    pledges = db.session.execute(
        select(Pledge.id, Pledge.note)
        .where(Pledge.note != "", Pledge.note != REDACTED)
        .order_by(Pledge.id)
    )
    for pledge_id, note in pledges:
        found = personal_details(note)
        if found:
            findings.append(
                Finding("pledge", pledge_id, "note", f"Pledge #{pledge_id}", tuple(found))
            )
    findings.extend(_goods_request_findings())
    findings.extend(_service_findings())
    for recipient in db.session.scalars(select(Recipient).order_by(Recipient.id)):
        found = personal_details(recipient.name)
        if found:
            findings.append(
                Finding(
                    "recipient",
                    recipient.id,
                    "name",
                    f"{recipient.kind_label} #{recipient.id}",
                    tuple(found),
                )
            )
    return findings


def _goods_request_findings() -> list[Finding]:
    rows = db.session.execute(
        select(GoodsRequest.id, GoodsRequest.note, GoodsRequest.decline_reason)
        .where((GoodsRequest.note != "") | (GoodsRequest.decline_reason != ""))
        .order_by(GoodsRequest.id)
    )
    findings = []
    for request_id, *texts in rows:
        for field, text in zip(_REQUEST_TEXTS, texts, strict=True):
            found = personal_details(text or "") if text != REDACTED else []
            if found:
                label = f"R-{request_id:06d}"
                findings.append(Finding("goods_request", request_id, field, label, tuple(found)))
    return findings


def _service_findings() -> list[Finding]:
    rows = db.session.execute(
        select(
            ContributedService.id,
            ContributedService.number,
            ContributedService.volunteer_id,
            ContributedService.description,
            ContributedService.void_reason,
        )
        .where((ContributedService.description != "") | (ContributedService.void_reason != ""))
        .order_by(ContributedService.id)
    )
    findings = []
    for service_id, number, volunteer_id, *texts in rows:
        for field, text in zip(_SERVICE_TEXTS, texts, strict=True):
            found = personal_details(text or "") if text != REDACTED else []
            if found:
                findings.append(
                    Finding("service", service_id, field, number, tuple(found), volunteer_id)
                )
    return findings


def _redact_texts(
    model: type[GoodsRequest] | type[ContributedService],
    object_id: int,
    fields: tuple[str, ...],
    missing: str,
) -> tuple[GoodsRequest | ContributedService, list[str]]:
    """Redact the ``fields`` of the ``model`` row ``object_id`` that the screen refuses
    today; return (the row, the fields redacted, in words).

    Like a ledger document, a decided request or an issued acknowledgement is never
    rewritten through the ORM (models.py): one statement that touches only these texts.
    """
    found = db.session.get(model, object_id)
    if found is None:
        raise NotFound(missing)
    values = {
        field: REDACTED
        for field in fields
        if getattr(found, field) not in ("", REDACTED) and personal_details(getattr(found, field))
    }
    if values:
        db.session.execute(update(model).where(model.id == object_id).values(**values))
        db.session.expire(found)
    return found, [field.replace("_", " ") for field in values]


def redact(*, actor: User | None, kind: str, object_id: int) -> str:
    """Replace a stored note (or case code, or recipient name) with "[redacted]".

    The only edit ever made to an append-only document. The audit log says a
    redaction happened, never what was removed. Returns what was redacted, in words.
    """
    if kind == "document":
        document = db.session.get(StockDocument, object_id)
        if document is None:
            raise NotFound("There is no such document.")
        changed: list[str] = []
        values: dict[str, str] = {}
        if document.note and document.note != REDACTED:
            values["note"] = REDACTED
            changed.append("note")
        if document.case_code and name_in_code(document.case_code):
            values["case_code"] = REDACTED
            changed.append("case code")
        if values:
            # The one allowed exception to the append-only ledger (models.py refuses any
            # ORM update of a document): a statement that touches only these two texts.
            db.session.execute(
                update(StockDocument).where(StockDocument.id == document.id).values(**values)
            )
            db.session.expire(document)
        label = f"D-{object_id:06d}"
        object_type = "stock_document"
    elif kind == "pledge":
        pledge = db.session.get(Pledge, object_id)
        if pledge is None:
            raise NotFound("There is no such pledge.")
        changed = []
        if pledge.note and pledge.note != REDACTED:
            pledge.note = REDACTED
            changed.append("note")
        label = f"Pledge #{pledge.id}"
        object_type = "pledge"
    elif kind == "recipient":
        recipient = db.session.get(Recipient, object_id)
        if recipient is None:
            raise NotFound("There is no such program or partner agency.")
        changed = []
        if not recipient.name.startswith(REDACTED):
            recipient.name = f"{REDACTED} {recipient.kind} {recipient.id}"
            recipient.active = False
            recipient.archived_at = recipient.archived_at or utcnow()
            changed.append("name")
        label = f"{recipient.kind_label} #{recipient.id}"
        object_type = "recipient"
    elif kind == "goods_request":
        _, changed = _redact_texts(
            GoodsRequest, object_id, _REQUEST_TEXTS, "There is no such request."
        )
        label = f"R-{object_id:06d}"
        object_type = "goods_request"
    elif kind == "service":
        # The number, date and hours stay: the acknowledgement keeps them, as a void does.
        service, changed = _redact_texts(
            ContributedService, object_id, _SERVICE_TEXTS, "There is no such professional service."
        )
        label = service.number
        object_type = "contributed_service"
    else:
        raise InvalidInput(f"Say what to redact: one of {', '.join(KINDS)}.", field="kind")
    if not changed:
        raise InvalidInput(f"{label} has nothing left to redact.", field="kind")
    db.session.flush()
    record_audit(
        actor=actor,
        action="privacy.note_redacted",
        object_type=object_type,
        object_id=object_id,
        summary=f"Note redacted: {' and '.join(changed)} of {label} replaced with {REDACTED}",
    )
    return f"{' and '.join(changed)} of {label}"
