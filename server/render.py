"""Render an Answer for the terminal (rich) and as Markdown.

JSON is ``answer.to_dict()``. Every face shows the risk of each step, and a destructive
step is flagged so that it cannot be skimmed past.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from migfix.server.answer import Answer

if TYPE_CHECKING:
    from rich.console import Console

RISK_STYLE = {"safe": "green", "caution": "yellow", "destructive": "bold white on red"}
RISK_LABEL = {"safe": "safe", "caution": "caution", "destructive": "DESTRUCTIVE"}


def _signal_line(answer: Answer) -> str:
    s = answer.signals
    parts = []
    for key in ("exception", "command", "backend", "django_version"):
        if s.get(key):
            parts.append(f"{key.replace('_', ' ')}: {s[key]}")
    for key in ("apps", "migrations", "tables", "columns"):
        if s.get(key):
            parts.append(f"{key}: {', '.join(s[key][:4])}")
    return "; ".join(parts)


def render_terminal(answer: Answer, console: Console) -> None:
    """Print the answer with rich; commands are unstyled so that they copy cleanly."""
    from rich.markup import escape
    from rich.text import Text

    if answer.status != "matched" or answer.playbook is None:
        console.print(Text("No confident match", style="bold yellow"))
        console.print(escape(answer.message))
        if answer.alternatives:
            console.print("Nearest playbooks:")
            for ref in answer.alternatives:
                console.print(
                    f"  - {escape(ref.title)} [dim]({ref.id}, {ref.confidence:.2f})[/dim]"
                )
        line = _signal_line(answer)
        if line:
            console.print(f"[dim]Recognised: {escape(line)}[/dim]")
        return
    ref = answer.playbook
    console.print(
        Text(ref.title, style="bold"),
        Text(f"  {ref.id} · confidence {ref.confidence:.2f}", style="dim"),
    )
    console.print(escape(answer.summary))
    line = _signal_line(answer)
    if line:
        console.print(f"[dim]Recognised: {escape(line)}[/dim]")
    if answer.cause:
        console.print(Text(f"\nFix: {answer.cause}", style="bold"))
    else:
        console.print(Text("\nFix", style="bold"))
    for step in answer.steps:
        label = Text(
            f" {RISK_LABEL.get(step.risk, step.risk)} ", style=RISK_STYLE.get(step.risk, "")
        )
        console.print(Text(f"{step.n}. "), label, Text(" " + step.text))
        if step.command:
            for command_line in step.command.split("\n"):
                console.print(Text("     " + command_line, style="cyan"), soft_wrap=True)
    if answer.other_causes:
        console.print(
            Text("\nOther causes in this playbook: " + "; ".join(answer.other_causes), style="dim")
        )
    if answer.verify:
        console.print(Text("\nVerify", style="bold"))
        for block in answer.verify:
            for command_line in block.split("\n"):
                console.print(Text("  " + command_line, style="cyan"), soft_wrap=True)
    if answer.alternatives:
        console.print(
            Text("\nAlso possible: " + ", ".join(a.id for a in answer.alternatives), style="dim")
        )


def render_markdown(answer: Answer) -> str:
    """GitHub-flavoured Markdown for issues, chats and the README's examples."""
    out: list[str] = []
    if answer.status != "matched" or answer.playbook is None:
        out += ["## No confident match", "", answer.message, ""]
        if answer.alternatives:
            out.append("Nearest playbooks:")
            out += [f"- {a.title} (`{a.id}`, {a.confidence:.2f})" for a in answer.alternatives]
            out.append("")
        line = _signal_line(answer)
        if line:
            out += [f"Recognised: {line}", ""]
        return "\n".join(out).rstrip() + "\n"
    ref = answer.playbook
    out += [
        f"## {ref.title}",
        "",
        f"`{ref.id}` · confidence {ref.confidence:.2f}",
        "",
        answer.summary,
        "",
    ]
    line = _signal_line(answer)
    if line:
        out += [f"Recognised: {line}", ""]
    out += [f"### Fix: {answer.cause}" if answer.cause else "### Fix", ""]
    for step in answer.steps:
        tag = "**[DESTRUCTIVE]**" if step.risk == "destructive" else f"[{step.risk}]"
        item = f"{step.n}. {tag} {step.text}"
        out.append(item)
        if step.command:
            out += ["   ```sh", *("   " + c for c in step.command.split("\n")), "   ```"]
    out.append("")
    if answer.other_causes:
        out += ["Other causes in this playbook: " + "; ".join(answer.other_causes), ""]
    if answer.verify:
        out += ["### Verify", "", "```sh", *answer.verify, "```", ""]
    if answer.sources:
        out += ["### Sources", "", *(f"- {s}" for s in answer.sources), ""]
    if answer.alternatives:
        out += ["Also possible: " + ", ".join(f"`{a.id}`" for a in answer.alternatives), ""]
    return "\n".join(out).rstrip() + "\n"
