"""Who is protected and who may see a protected identity (LTC art. 9, 47, 56), and the multi-person
threshold. Plain rules over plain values: the service supplies the facts, these decide."""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from workflows.cases import Role, Status

MASK = "(được giữ bí mật)"

# A letter signed by at least this many people is a multi-person matter (đơn đông người).
MULTI_PERSON_SIGNERS = 5


def is_multi_person(signer_count: int) -> bool:
    return signer_count >= MULTI_PERSON_SIGNERS


# On a case whose sender asked for identity protection, those it is brought against keep their names in clear.
COUNTERPARTY_ROLES = frozenset({"accused", "respondent"})


def is_protected(role: str, kind: str, identity_protected: bool = False) -> bool:
    """Whose identity is sealed and masked: every denouncer, and in a denunciation everyone but the
    accused — representatives and relatives of denouncers are protected too. A case whose sender asked for
    identity protection (`identity_protected`, whatever its kind: LTC art. 47 applied to a visitor who asked)
    protects everyone but those it is brought against (the accused, the respondent)."""
    if role == "denouncer" or (kind == "denunciation" and role != "accused"):
        return True
    return identity_protected and role not in COUNTERPARTY_ROLES


def seals_free_text(kind: str, identity_protected: bool = False) -> bool:
    """A case with protected parties (every denunciation, and any case whose sender asked for identity
    protection): its free text — title and content, reasons, notes, dialogue participants and minutes, notice
    recipients — may name or point to the protected sender, so it is sealed like the identity."""
    return kind == "denunciation" or identity_protected


def holding_unit(status: str, receiving_unit_id: int, competent_unit_id: int) -> int:
    """The unit whose officers act on the case: the receiving unit while the letter is being processed
    (xử lý đơn), the competent unit once it has been accepted."""
    return receiving_unit_id if status == Status.received else competent_unit_id


# Accounts through which the service itself receives letters (the citizen channel, Open311 apps): their usernames
# begin with this. Nobody signs in as them; being a letter's receiver through them opens nothing.
SYSTEM_ACCOUNT_PREFIX = "he-thong."


def is_system_account(username: str) -> bool:
    return username.lower().startswith(SYSTEM_ACCOUNT_PREFIX)


def may_see_identity(
    *,
    roles: frozenset[str],
    officer_id: int,
    officer_unit_id: int,
    received_by_id: int,
    received_by_system: bool,
    holding_unit_id: int,
    named_accused: bool = False,
) -> bool:
    """Who may see a protected identity (LTC art. 47, 56): the head of the unit holding the case (who decides on
    it), and the desk officer who received the letter in person — unless the letter came in through a system
    account (citizen channel, Open311): then being its receiver opens nothing, and only the head sees it.
    Never a verifier (the file handed to verifiers carries no identity: an officer holding the handler role sees
    none, whatever else they hold) and never an officer the case names as accused."""
    if named_accused or Role.handler.value in roles:
        return False
    if Role.desk_officer.value in roles and received_by_id == officer_id and not received_by_system:
        return True
    return Role.unit_head.value in roles and officer_unit_id == holding_unit_id


# ---- a letter's text, for those who may not see who wrote it ----


@lru_cache(maxsize=4096)
def _fold_char(c: str) -> str:
    """One character lowercased, without accents (đ → d): the folding of search (NFD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFD", c.lower())
    return "".join(x for x in decomposed if not unicodedata.combining(x)).replace("đ", "d")


def fold_text(text: str) -> str:
    return "".join(map(_fold_char, text))


# Between the digits of an ID number or a phone: spaces, dots, hyphens ("0911 888 777", "0911.888.777").
_DIGIT_GAP = r"[\s.\-]*"


def _secret_pattern(secret: str) -> str | None:
    """A folded secret as a pattern over folded text: a name or an address as its words in order, whatever stands
    between them (spaces, line breaks, hyphens, commas), never inside a longer word; an ID number or a phone as its
    digits, whatever spacing, never inside a longer number (a phone beginning with 0 also as +84 …)."""
    words = re.findall(r"[^\W_]+", fold_text(secret))
    if sum(map(len, words)) < 2:  # a lone letter would mask every occurrence of it: not a secret to match
        return None
    if all(w.isdigit() for w in words):
        digits = "".join(words)
        if digits.startswith("0") and len(digits) > 1:
            return r"(?<!\d)(?:0|\+?84)" + _DIGIT_GAP + _DIGIT_GAP.join(digits[1:]) + r"(?!\d)"
        return r"(?<!\d)" + _DIGIT_GAP.join(digits) + r"(?!\d)"
    return r"(?<![^\W_])" + r"[\W_]+".join(map(re.escape, words)) + r"(?![^\W_])"


def redact(text: str, secrets: Iterable[str | None], mask: str = MASK) -> str:
    """`text` with every occurrence of each secret (a protected party's full name, ID number, phone, address)
    replaced by `mask`: matched case- and accent-insensitively (both folded as search folds: "GIÀNG seo phu" is
    "Giàng Seo Phủ"), the rest of the text left exactly as written. A secret written otherwise (a nickname, the
    given name alone, a misspelling) is not caught: only the identity the letter's parties carry."""
    patterns = {p for s in secrets if s and (p := _secret_pattern(s))}
    if not patterns or not text:
        return text
    # Longest first, so that a name inside a longer secret (an address naming the same person) goes with it.
    found = re.compile("|".join(sorted(patterns, key=lambda p: (-len(p), p))))
    folded: list[str] = []
    origin: list[int] = []  # the index in `text` of each folded character
    for i, c in enumerate(text):
        f = _fold_char(c)
        folded.append(f)
        origin.extend([i] * len(f))
    out: list[str] = []
    done = 0
    for m in found.finditer("".join(folded)):
        start, end = origin[m.start()], origin[m.end() - 1] + 1
        while end < len(text) and not _fold_char(text[end]):  # accents written apart stay with their letter
            end += 1
        out += [text[done:start], mask]
        done = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


# ---- a case always keeps an overseer ----

# Why a case's oversight left its ordinary overseers (the inspectorate's officers, who read every case).
ALL_INSPECTORS_ACCUSED = "all_inspectors_accused"  # the chief inspector oversees it
INSPECTORATE_ACCUSED = "inspectorate_accused"  # the chief inspector too: the nearest unaccused head above
EVERYONE_ACCUSED = "everyone_accused"  # nobody unaccused is left: listed for the province chair, flagged


@dataclass(frozen=True, slots=True)
class Oversight:
    escalated: bool
    reason: str | None
    overseer_ids: frozenset[int]  # who oversees the case now


def oversight(
    *,
    accused: frozenset[int],
    inspectors: frozenset[int],
    chief_inspectors: frozenset[int],
    heads_above: Sequence[frozenset[int]],
    province_chairs: frozenset[int],
) -> Oversight:
    """Naming officers as accused hides the case from them (LTC art. 47: they may not learn who denounced them),
    so naming must never leave a case nobody independent reads. `accused`: the officers the case names;
    `inspectors`: the active officers with the inspector role (they read every case); `chief_inspectors`: the
    active heads of the inspectorate's unit; `heads_above`: the active heads of each unit strictly above the unit
    holding the case, nearest first; `province_chairs`: the active heads of the province (the root unit).

    While an unaccused inspector remains, nothing changes. Otherwise the case is escalated (flagged, and an event
    says so): to the chief inspector if unaccused; else to the nearest unaccused head above the holding unit (who
    reads it already); else — everyone accused — to the province chair, who may read it (never the identity) so
    that it is passed to the body above the province, and the flag shows why."""
    if not accused:
        return Oversight(False, None, inspectors)
    free = inspectors - accused
    if free:
        return Oversight(False, None, free)
    chiefs = chief_inspectors - accused
    if chiefs:
        return Oversight(True, ALL_INSPECTORS_ACCUSED, chiefs)
    for heads in heads_above:
        if heads - accused:
            return Oversight(True, INSPECTORATE_ACCUSED, heads - accused)
    return Oversight(True, EVERYONE_ACCUSED, province_chairs)
