"""What the citizen channel keeps of a citizen beside their letter, sealed at rest (issue 21, the outside audit):
the exact position their phone sent, and the comment of their rating.

- A submission's exact position (`cases.location` lat/long) may be the sender's home. It is sealed under the
  identity keys (Fernet, `location["sealed"]`, JSON {lat, long}); in clear stays only the commune and, for a
  letter whose sender is not protected (`confidentiality.seals_free_text`: not a denunciation, no identity
  protection asked), a coarse position rounded to COARSE_DECIMALS (about 1 km: the hamlet, not the house), which
  is all the anonymous Open311 listing ever shows (petitions and feedback). Routing never uses the position (by
  commune code or address only), and no officer's view shows it.
- A rating's comment (`case_ratings.comment`) may name its writer: every one is sealed (a Fernet token is text,
  JSON {comment}); nothing reads it in clear.

What earlier revisions wrote in clear, revision 0026 seals (the application role may not update a rating: they are
append-only for the service)."""

from typing import Any

from api.vault import Vault
from workflows.confidentiality import seals_free_text

COARSE_DECIMALS = 2


def seal_position(
    vault: Vault, kind: str, location: dict[str, Any], *, identity_protected: bool = False
) -> dict[str, Any]:
    """The location as it is stored: the exact lat/long sealed, a coarse one kept in clear unless the sender is
    protected. A location without a position, or already sealed, is returned as it is."""
    lat, long = location.get("lat"), location.get("long")
    if lat is None or long is None or "sealed" in location:
        return location
    kept = {k: v for k, v in location.items() if k not in ("lat", "long")}
    kept["sealed"] = vault.seal({"lat": lat, "long": long})
    if not seals_free_text(kind, identity_protected):
        kept["lat"], kept["long"] = round(float(lat), COARSE_DECIMALS), round(float(long), COARSE_DECIMALS)
    return kept


def seal_comment(vault: Vault, comment: str | None) -> str | None:
    return None if comment is None else vault.seal({"comment": comment})
