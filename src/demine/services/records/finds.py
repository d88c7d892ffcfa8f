"""EO find rules: a find is recorded on a hazard only by an organisation that may work it.

What finds add to the figures (EO destroyed) counts only once they are approved: the
statistics read the tallies of approved finds (see services.reads.stats)."""

from __future__ import annotations

from demine.domain.errors import Problem
from demine.services.records import taskings
from demine.services.records.hooks import Change, Hooks


class FindHooks(Hooks):
    """A find on another organisation's hazard needs a tasking."""

    def before_write(self, change: Change) -> list[Problem]:
        return taskings.problems(change.uow, change.actor, change.values,
                                 record=change.label, old=change.old)
