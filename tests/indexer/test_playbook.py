"""The playbook parser: front matter, sections, routes and steps."""

from __future__ import annotations

import pytest

from migfix.indexer.errors import PlaybookError
from migfix.indexer.playbook import load_playbooks, parse_playbook

MINIMAL = """---
id: demo
title: Demo
summary: A demo.
category: graph
backends: [sqlite]
signatures: ['demo (?P<app>\\w+)']
---

# Demo

## Symptoms

```text
demo orders
```

## Why it happens

Because.

## Diagnose

```sh
python manage.py showmigrations
```

## Fix

### The first cause
Confirmed by: `graph.conflict`, `plan.unapplied`

1. [safe] Back up the database.
   ```sh
   pg_dump --format=custom --file=backup.dump <database>
   ```
2. [destructive] Applies when: dev, postgresql. Precondition: nobody else
   uses this database. Drop it.
   ```sh
   dropdb <database>
   ```

### The second cause

1. [caution] Fake it.

## Verify

Done.

## Prevent

Nothing.

## Sources

- Django.
"""


def test_front_matter_and_sections_are_parsed():
    playbook = parse_playbook(MINIMAL, "kb/demo.md")

    assert playbook.id == "demo"
    assert playbook.backends == ("sqlite",)
    titles = [s.title for s in playbook.sections]
    assert titles[:4] == ["Symptoms", "Why it happens", "Diagnose", "Fix"]
    assert playbook.examples == ("demo orders\n",)
    assert playbook.section("Symptoms").line == 12


def test_routes_and_steps_carry_risk_conditions_and_commands():
    playbook = parse_playbook(MINIMAL, "kb/demo.md")

    first, second = playbook.routes
    assert first.title == "The first cause"
    assert first.confirmed_by == ("graph.conflict", "plan.unapplied")
    backup, drop = first.steps
    assert backup.risk == "safe"
    assert backup.command == "pg_dump --format=custom --file=backup.dump <database>"
    assert drop.risk == "destructive"
    assert drop.applies_when == ("dev", "postgresql")
    assert drop.precondition == "nobody else uses this database"
    drop_line = "2. [destructive] Applies when: dev, postgresql. Precondition: nobody else"
    assert drop.line == MINIMAL.split("\n").index(drop_line) + 1
    assert second.steps[0].risk == "caution"
    assert second.steps[0].command is None


def test_migration_only_is_false_unless_said() -> None:
    assert parse_playbook(MINIMAL).migration_only is False
    flagged = MINIMAL.replace("backends: [sqlite]", "backends: [sqlite]\nmigration_only: true")
    assert parse_playbook(flagged).migration_only is True


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("# no front matter\n", "no front matter", 1),
        (
            MINIMAL.replace("category: graph", "category: graph\ncolour: red"),
            "unknown front-matter key(s): colour",
            2,
        ),
        (MINIMAL.replace("title: Demo\n", ""), "lacks the required key 'title'", 2),
        (
            MINIMAL.replace("backends: [sqlite]", "backends: sqlite"),
            "'backends' must be a list of strings",
            6,
        ),
        (MINIMAL.replace("summary: A demo.", "summary: [unclosed"), "not valid YAML", None),
        (
            MINIMAL.replace("backends: [sqlite]", "backends: [sqlite]\nmigration_only: yes please"),
            "'migration_only' must be true or false",
            7,
        ),
    ],
)
def test_malformed_front_matter_names_file_and_line(text, message, line):
    with pytest.raises(PlaybookError) as excinfo:
        parse_playbook(text, "kb/demo.md")

    assert message in str(excinfo.value)
    assert str(excinfo.value).startswith("kb/demo.md:")
    if line is not None:
        assert excinfo.value.line == line


def test_the_installed_kb_loads_and_every_playbook_has_steps():
    playbooks = load_playbooks()

    assert playbooks
    for playbook in playbooks:
        assert playbook.steps, playbook.id
        assert playbook.examples, playbook.id
