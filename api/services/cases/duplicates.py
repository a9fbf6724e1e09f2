"""Related letters: the same person (by citizen ID) or similar content (trigram similarity)."""

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError
from api.models.cases import Case, CaseParty, DuplicateDismissal
from api.models.cases.schemas import DuplicateOut
from api.services import search
from api.services.cases import access

# pg_trgm's default similarity threshold, which its `%` operator (served by ixx_cases_content_trgm) applies.
SIMILARITY_THRESHOLD = 0.3
CANDIDATES = 2000


async def similar(session: AsyncSession, principal: Officer, case: Case, limit: int = 20) -> list[DuplicateOut]:
    if case.kind == "denunciation" and not access.sees_identity(principal, case):
        # Similar wording would link the denunciation to the denouncer's other letters: nothing for a caller
        # who may not know who denounced.
        return []
    content = search.folded(case.content)
    score = sa.func.similarity(search.folded(Case.content), content)
    # Denouncers are left out on both sides: "same person" must not link a secret identity to a visible one.
    ids = sa.select(CaseParty.id_number_hash).where(
        CaseParty.case_id == case.id, CaseParty.id_number_hash.is_not(None), access.open_party_clause(case.kind)
    )
    same_person = sa.exists().where(
        CaseParty.case_id == Case.id, CaseParty.id_number_hash.in_(ids), access.open_party_clause(Case.kind)
    )
    # Candidates come from the indexes (trigram `%` on the content, the ID fingerprint): no scan of every case,
    # and at most CANDIDATES similar letters (a campaign of near-identical letters must not stall the request).
    candidates = sa.union(
        # From the trigram index alone (a scope filter here lets the planner walk a unit's cases computing
        # similarity row by row: seconds); the caller's scope is applied to the candidates below.
        sa.select(Case.id).where(search.folded(Case.content).op("%")(content)).limit(CANDIDATES),
        sa.select(CaseParty.case_id).where(CaseParty.id_number_hash.in_(ids)),
    ).subquery()
    rows = (
        await session.execute(
            sa.select(Case, score.label("score"), same_person.label("same"))
            .where(
                Case.id != case.id,
                access.readable(principal),
                Case.id.in_(sa.select(candidates.c[0])),
                # …nor, from another case, to a denunciation whose denouncer the caller may not know.
                sa.or_(Case.kind != "denunciation", access.sees_identity_clause(principal)),
                sa.or_(score > SIMILARITY_THRESHOLD, same_person),
                # Pairs an officer has said are not the same matter are not suggested again.
                ~sa.exists().where(
                    sa.or_(
                        sa.and_(DuplicateDismissal.case_id == case.id, DuplicateDismissal.other_case_id == Case.id),
                        sa.and_(DuplicateDismissal.case_id == Case.id, DuplicateDismissal.other_case_id == case.id),
                    )
                ),
            )
            .order_by(sa.desc("same"), sa.desc("score"))
            .limit(limit)
        )
    ).all()
    return [
        DuplicateOut(
            id=c.id,
            tracking_code=c.tracking_code,
            kind=c.kind,
            status=c.status,
            title=c.title,
            received_at=c.received_at,
            similarity=round(float(s), 3),
            same_person=bool(same),
        )
        for c, s, same in rows
    ]


async def dismiss(session: AsyncSession, principal: Officer, case_id: int, other_id: int) -> None:
    """Record that two letters are not the same matter: a judgement on the case's record, so only its desk or head
    in the unit holding it may make it (those who merely read it — heads above, the inspectorate — may not), and
    both letters must be readable by the caller."""
    from api.services import audit
    from api.services.cases import queries

    case = await queries.get_readable(session, principal, case_id)
    await queries.get_readable(session, principal, other_id)
    if not access.acting_roles(principal, case):
        raise DomainError(Code.not_your_unit)
    if case_id == other_id:
        raise DomainError(Code.validation_error, details={"field": "other_id"})
    await session.execute(
        sa.text(
            "INSERT INTO duplicate_dismissals (case_id, other_case_id, dismissed_by_id) VALUES (:a, :b, :u) "
            "ON CONFLICT DO NOTHING"
        ),
        {"a": case_id, "b": other_id, "u": principal.id},
    )
    audit.record(
        session,
        actor_id=principal.id,
        entity="case",
        entity_id=case_id,
        action="duplicate_dismissed",
        payload={"other_case_id": other_id},
    )
    await session.commit()
