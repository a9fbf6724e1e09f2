"""Checkpoint files (one record written by `checkpoint --out`, or the records appended to CHECKPOINT_FILE): read
and every record's signature and digest checked."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.services.checkpoints.signing import check_header


@dataclass
class CheckpointFile:
    """What a checkpoint file holds: every record's header (each verified) and the heads of the last one."""

    headers: list[dict[str, Any]]
    heads: dict[int, tuple[int, str]]


def _records(path: Path) -> Iterator[tuple[dict[str, Any], list[str]]]:
    header: dict[str, Any] | None = None
    lines: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("{"):
                if header is not None:
                    yield header, lines
                header, lines = json.loads(line), []
            elif line.strip():
                lines.append(line if line.endswith("\n") else line + "\n")
    if header is None:
        raise ValueError("the checkpoint file holds no checkpoint")
    yield header, lines


def read_file(path: Path) -> CheckpointFile:
    """A checkpoint file (one record written by `checkpoint --out`, or the records appended to CHECKPOINT_FILE);
    ValueError if any record's signature or digest does not hold."""
    headers: list[dict[str, Any]] = []
    heads: dict[int, tuple[int, str]] = {}
    for header, lines in _records(path):
        check_header(header, hashlib.sha256("".join(lines).encode()).hexdigest())
        headers.append(header)
        heads = {}
        for line in lines:
            case_id, count, head = line.rstrip("\n").split(":")
            heads[int(case_id)] = (int(count), head)
    return CheckpointFile(headers=headers, heads=heads)


def read_checkpoint(path: Path) -> tuple[dict[str, Any], dict[int, tuple[int, str]]]:
    """The header and the heads of a checkpoint file's last record; ValueError if a signature or digest does not
    hold."""
    read = read_file(path)
    return read.headers[-1], read.heads
