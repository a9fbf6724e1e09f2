"""Who is protected and who may see a protected identity (LTC art. 9, 47, 56), and the multi-person
threshold. Plain rules over plain values: the service supplies the facts, these decide."""

from workflows.cases import Role, Status

MASK = "(được giữ bí mật)"

# A letter signed by at least this many people is a multi-person matter (đơn đông người).
MULTI_PERSON_SIGNERS = 5


def is_multi_person(signer_count: int) -> bool:
    return signer_count >= MULTI_PERSON_SIGNERS


def is_protected(role: str, kind: str) -> bool:
    """Whose identity is sealed and masked: every denouncer, and in a denunciation everyone but the
    accused — representatives and relatives of denouncers are protected too."""
    return role == "denouncer" or (kind == "denunciation" and role != "accused")


def seals_free_text(kind: str) -> bool:
    """A case with protected parties (every denunciation): its free text — reasons, notes, dialogue participants
    and minutes, notice recipients — may name or point to the denouncer, so it is sealed like the identity."""
    return kind == "denunciation"


def holding_unit(status: str, receiving_unit_id: int, competent_unit_id: int) -> int:
    """The unit whose officers act on the case: the receiving unit while the letter is being processed
    (xử lý đơn), the competent unit once it has been accepted."""
    return receiving_unit_id if status == Status.received else competent_unit_id


def may_see_identity(
    *, roles: frozenset[str], officer_id: int, officer_unit_id: int, received_by_id: int, holding_unit_id: int
) -> bool:
    """A protected identity is shown only to the desk officer who received the case and to the head of the
    unit holding it (who decides on it)."""
    if Role.desk_officer.value in roles and received_by_id == officer_id:
        return True
    return Role.unit_head.value in roles and officer_unit_id == holding_unit_id
