"""Typer apps. Each module registers its commands; none holds logic the library lacks.

runner.py     run a Typer app: RalphError -> one line on stderr + its exit code
main.py       the `ralph` app; wires the command modules below
tix.py        the `tix` app over TicketStore
"""

__all__: list[str] = []
