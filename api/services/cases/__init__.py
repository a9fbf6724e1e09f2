"""The case aggregate: intake (tiếp nhận), actions, dialogues and notices, queries and search, what each
caller is shown, access rules, the hash-chained trail and duplicate detection — one module each."""
