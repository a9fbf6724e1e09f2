"""Signed checkpoints of every case's chain head, and the full-database verification.

A checkpoint is the list of (case id, event count, head hash) of every case at one moment, summarised by a
SHA-256 digest and signed (HMAC) with the chain key. The summary is kept in `chain_checkpoints`, numbered 1, 2, …
and chained: each one signs the signature of the one before (migration 0023), so a checkpoint deleted from the
middle or altered is seen by `verify_checkpoints`. The whole list is written to a file by `python -m api checkpoint
--out FILE`, and each scheduled checkpoint is also appended to CHECKPOINT_FILE and/or POSTed to
CHECKPOINT_WEBHOOK_URL, for keeping off the database server. Against such a file, `python -m api verify-events
--checkpoint FILE` finds what the per-case anchor cannot: a case deleted with all its events, a chain cut back and
re-anchored (shorter than the checkpoint says, or its head there no longer the one signed), and the newest
checkpoints deleted from the database — since the key needed to re-sign is not in the database.

The full verification also proves each case row (status, version, outcome, kind, units, parties and accused
links) against the state its chain recorded (trail.state_digest), and that every sealed text opens under the
identity keys to the text its event's keyed digest covers.

`signing` (the signature, on rows and file headers), `record` (`make_record`, `make`, `due`), `shipping` (`ship`,
`make_scheduled`: off the server), `files` (`read_file`, `read_checkpoint`), `verify` (`verify_all`, `verify_case`,
`verify_checkpoints`). The CLI, the routers, the jobs and the tests import from here.
"""

from api.services.checkpoints.files import CheckpointFile, read_checkpoint, read_file
from api.services.checkpoints.record import due, make, make_record
from api.services.checkpoints.shipping import SIGNATURE_HEADER, make_scheduled, ship
from api.services.checkpoints.signing import GENESIS_SIGNATURE, header_of, sign
from api.services.checkpoints.verify import Problem, Report, verify_all, verify_case, verify_checkpoints

__all__ = [
    "GENESIS_SIGNATURE",
    "SIGNATURE_HEADER",
    "CheckpointFile",
    "Problem",
    "Report",
    "due",
    "header_of",
    "make",
    "make_record",
    "make_scheduled",
    "read_checkpoint",
    "read_file",
    "ship",
    "sign",
    "verify_all",
    "verify_case",
    "verify_checkpoints",
]
