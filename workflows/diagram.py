"""The state diagram (Mermaid) generated from the transition table: `python -m workflows.diagram`."""

from workflows.cases import PREVIOUS, TRANSITIONS


def mermaid() -> str:
    lines = ["stateDiagram-v2", "    [*] --> received"]
    for (status, action), t in TRANSITIONS.items():
        roles = ", ".join(sorted(r.value for r in t.roles))
        if t.to == PREVIOUS:
            for back in ("accepted", "in_progress"):
                lines.append(f"    {status.value} --> {back}: {action.value} ({roles})")
        else:
            lines.append(f"    {status.value} --> {t.to}: {action.value} ({roles})")
    return "\n".join(lines)


if __name__ == "__main__":
    print(mermaid())
