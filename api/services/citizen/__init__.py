"""The citizen channel: what a citizen (or an Open311 app) does without an officer account, and the files of a case.

- `submissions` — a letter in: where it lands (`route`: commune code, commune named in the address, or the
  province's office), the channel's own user, the Idempotency-Key's scope and contact binding, and `submit`, which
  takes it in through the desk's intake.
- `status` — a citizen's own case by tracking code and access key (`find`), what they are shown of it (`status`:
  public status, timeline, next due date), their rating (`rate`), the webhook body of a public status change, and
  the names of kinds, fields, statuses and outcomes the channel shows.
- `open311` — GeoReport v2: service codes and definitions, the anonymous listing, API keys, its XML.
- `attachments` — files of a case (citizen or officer uploads): type from the content, metadata-stripped copies,
  quotas, who gets the original; `storage` — the storage interface and its sealing wrapper.
- `seal` — what is kept of a citizen sealed at rest: a letter's exact position and a rating's comment.

Nothing here shows a citizen an officer, a note or another party. Modules are imported by name
(`from api.services.citizen import submissions`); this package re-exports nothing."""
