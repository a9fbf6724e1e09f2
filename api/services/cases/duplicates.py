"""Related letters: the same person (by citizen ID) or similar content (trigram similarity)."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth import Officer
from api.errors import Code, DomainError, timed_out
from api.models.cases import Case, CaseParty, DuplicateDismissal
from api.models.cases.schemas import DuplicateOut
from api.services import search
from api.services.cases import access, presenters, sealed_text
from api.services.cases.sealed_text import TextKeys
from api.vault import Vault
from workflows import confidentiality

# pg_trgm's default similarity threshold, which its `%` operator (served by ixx_cases_content_trgm) applies.
SIMILARITY_THRESHOLD = 0.3
CANDIDATES = 2000
UNIT_CANDIDATES = 1000  # the unit's latest letters, compared one by one (~80 µs each)
SIMILAR_BUDGET_MS = 150


def _similar_query(content: str) -> sa.Select[Any]:
    stmt: sa.Select[Any] = sa.select(Case.id).where(search.folded(Case.content).op("%")(content)).limit(CANDIDATES)
    return stmt


async def _similar_wording(session: AsyncSession, content: str) -> list[int]:
    """Up to CANDIDATES letters whose folded content is trigram-similar (`%`, from ixx_cases_content_trgm, without a
    scope filter: with one the planner walks a unit's cases computing similarity row by row), or none if that
    takes longer than SIMILAR_BUDGET_MS (the statement is cancelled inside a savepoint; the transaction goes on)."""
    try:
        async with session.begin_nested():
            await session.execute(sa.text(f"SET LOCAL statement_timeout = {SIMILAR_BUDGET_MS}"))
            found: list[int] = [int(i) for i in await session.scalars(_similar_query(content))]
    except sa.exc.DBAPIError as exc:
        if not timed_out(exc):
            raise
        found = []
    # SET LOCAL outlives a released savepoint: back to the connection's own timeout (set when it opened).
    await session.execute(sa.text("SET LOCAL statement_timeout TO DEFAULT"))
    return found


def _shared_words(words: list[int]) -> sa.ColumnElement[float]:
    """How much of a sealed denunciation's words (`cases.text_words`, keyed MACs) are among `words` (the MACs of
    the letter compared): shared / the larger count, 0 for a letter in clear."""
    wanted = sa.cast(sa.literal(words, ARRAY(sa.BigInteger)), ARRAY(sa.BigInteger))
    w = sa.func.unnest(Case.text_words).table_valued("w").render_derived()
    shared = sa.select(sa.func.count()).select_from(w).where(w.c.w == sa.any_(wanted)).correlate(Case).scalar_subquery()
    larger = sa.func.greatest(sa.func.cardinality(Case.text_words), len(words), 1)
    ratio = sa.cast(shared, sa.Float) / sa.cast(larger, sa.Float)
    return sa.case((Case.text_words.is_(None), 0.0), else_=ratio)


async def similar(
    session: AsyncSession, principal: Officer, case: Case, vault: Vault, keys: TextKeys, limit: int = 20
) -> list[DuplicateOut]:
    if confidentiality.seals_free_text(case.kind, case.identity_protected) and not access.sees_identity(
        principal, case
    ):
        # Similar wording would link the denunciation to the denouncer's other letters: nothing for a caller
        # who may not know who denounced.
        return []
    # A sealed denunciation's text is never compared in the database in clear: its clear columns are empty and
    # only keyed MACs of its words are stored. Letters in clear are compared by trigram similarity; a sealed
    # denunciation among the candidates by the share of its keyed words that the letter has (only for a caller who
    # may see it: below). When the letter itself is a sealed denunciation (and the caller may see it), its opened
    # text is the query's parameter, for that request only.
    title, text = sealed_text.opened(case, vault)
    content = search.folded(text)
    # Its words as an index would hold them: none of its protected parties' identity (sealed_text.indexed_words).
    assert case.id is not None
    identities = (await sealed_text.protected_identities(session, vault, [case.id])).get(case.id, [])
    words = sorted({keys.word(w) for w in sealed_text.indexed_words(title + "\n" + text, identities)})
    score = sa.func.greatest(sa.func.similarity(search.folded(Case.content), content), _shared_words(words))
    # Denouncers are left out on both sides: "same person" must not link a secret identity to a visible one.
    ids = sa.select(CaseParty.id_number_hash).where(
        CaseParty.case_id == case.id,
        CaseParty.id_number_hash.is_not(None),
        access.open_party_clause(case.kind, case.identity_protected),
    )
    same_person = sa.exists().where(
        CaseParty.case_id == Case.id,
        CaseParty.id_number_hash.in_(ids),
        access.open_party_clause(Case.kind, Case.identity_protected),
    )
    # Candidates come from indexes only, never a scan of every case: the same person (ID fingerprint), the
    # unit's latest UNIT_CANDIDATES letters, and letters with similar wording across every unit (the trigram
    # index) — the last within a time budget: where thousands of letters share their phrases (a campaign, or the
    # benchmark's million), the index must read long posting lists, and the answer then comes from the others.
    similar_ids = await _similar_wording(session, content)
    candidates = sa.union(
        sa.select(CaseParty.case_id).where(CaseParty.id_number_hash.in_(ids)),
        sa.select(Case.id)
        .where(Case.competent_unit_id == case.competent_unit_id)
        .order_by(Case.received_at.desc(), Case.id.desc())
        .limit(UNIT_CANDIDATES),
        sa.select(sa.func.unnest(sa.cast(similar_ids, ARRAY(sa.BigInteger)))),
    ).subquery()
    rows = (
        await session.execute(
            sa.select(Case, score.label("score"), same_person.label("same"))
            .where(
                Case.id != case.id,
                access.readable(principal),
                Case.id.in_(sa.select(candidates.c[0])),
                # …nor, from another case, to a denunciation whose denouncer the caller may not know.
                sa.or_(
                    sa.and_(Case.kind != "denunciation", ~Case.identity_protected),
                    access.sees_identity_clause(principal),
                ),
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
    # A denunciation here is one whose identities the caller may see; any other protected party is masked.
    hidden = await presenters.hidden_identities_of(session, principal, [c for c, _, _ in rows], vault)
    return [
        DuplicateOut(
            id=c.id,
            tracking_code=c.tracking_code,
            kind=c.kind,
            status=c.status,
            title=presenters.text(c, vault, hidden.get(c.id))[0],
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
    access.ensure_desk_or_head(principal, case)
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
