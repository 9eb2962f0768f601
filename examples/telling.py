"""How the demo tells its story: numbered steps that say who does what, the commands run and
what the ledger answered, and at the end the list of what was verified."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from examples.processes import Cli, Output, shown

Say = Callable[[str], None]
WIDTH = 100


class Story:
    def __init__(self, say: Say) -> None:
        self.say = say
        self.number = 0
        self.verified: list[str] = []

    def heading(self, text: str) -> None:
        self.say(f"\n{text}")

    def step(self, who: str, text: str) -> None:
        """A new numbered step: `who` does `text`."""
        self.number += 1
        self.say(textwrap.fill(f"{self.number}. {who}: {text}", WIDTH,
                               subsequent_indent="   "))

    def answer(self, text: str) -> None:
        """What the ledger (or a check) answered."""
        self.say(textwrap.fill(text, WIDTH, initial_indent="   -> ",
                               subsequent_indent="      "))

    def note(self, text: str) -> None:
        self.say(textwrap.fill(text, WIDTH, initial_indent="   ", subsequent_indent="   "))

    def run(self, cli: Cli, *args: str, remote: bool = False, expect: int = 0,
            lines: int | None = 1) -> Output:
        """Run a command as a person would, print it and the first `lines` lines of what it
        printed (all of them if None)."""
        output = cli.run(*args, remote=remote, expect=expect)
        self.echo(args, output, lines, remote)
        return output

    def echo(self, args: tuple[str, ...], output: Output, lines: int | None = 1,
             remote: bool = False) -> None:
        """A command that ran, and the first `lines` lines it printed (None: all)."""
        self.say(f"   $ {shown(args)}{'  (server)' if remote else ''}")
        printed = output.text.splitlines()
        for line in printed if lines is None else printed[:lines]:
            self.say(f"     {line}")

    def verify(self, what: str) -> None:
        """Remember a check that held, for the list at the end."""
        self.verified.append(what)
