"""How a model is reached from each kind of scope.

A model that holds personal or institutional data declares `scope_paths`; the one helper
`peixun.accounts.scope.restrict()` turns a user's scope into a filter along these paths. A path
left as None means that kind of user never sees rows of the model.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class ScopePaths:
    # lookup to the Area id the row belongs to (region / city / county officials)
    area: str | None = None
    # lookup to the Organisation id the row belongs to (institutions, evaluation bodies, platforms)
    organisation: str | None = None
    # lookup to the Person id the row concerns (trainees see only themselves)
    person: str | None = None
