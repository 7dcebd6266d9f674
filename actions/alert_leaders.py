"""Which clusters this replica watches for alerts: those whose election it wins.

`Leaders` stands for election in every cluster some conversation watches (one `cluster.leader`
Election each, made by `elect`) and tells its owner, on the event loop, when it gains or loses a
cluster. Without `elect` (SQLite: one process) it leads every cluster at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from cluster.leader import Election

Elect = Callable[[str], Election]  # a candidacy for the named cluster
Notice = Callable[[str], None]  # called with the cluster's name


class Leaders:
    """This replica's candidacies, and the clusters it leads."""

    def __init__(self, elect: Elect | None, gained: Notice, lost: Notice):
        self.elect, self._gained, self._lost = elect, gained, lost
        self._elections: dict[str, Election] = {}
        self._leading: set[str] = set()

    def leads(self, cluster: str) -> bool:
        return self.elect is None or cluster in self._leading

    async def stand(self, clusters: set[str]) -> None:
        """Stand in each of `clusters`; withdraw (handing leadership over) from the others."""
        if self.elect is None:
            return
        for cluster in set(self._elections) - clusters:
            await self._elections.pop(cluster).stop()
            self._lose(cluster)
        loop = asyncio.get_running_loop()
        for cluster in clusters - set(self._elections):
            self._elections[cluster] = election = self.elect(cluster)
            election.start(
                partial(loop.call_soon_threadsafe, self._gain, cluster),
                partial(loop.call_soon_threadsafe, self._lose, cluster),
            )

    async def stop(self, release: bool = True) -> None:
        """Withdraw everywhere; without `release` the others wait for the leases to lapse."""
        elections, self._elections = list(self._elections.values()), {}
        self._leading.clear()
        await asyncio.gather(*(e.stop(release) for e in elections))

    def _gain(self, cluster: str) -> None:
        if cluster in self._elections and cluster not in self._leading:
            self._leading.add(cluster)
            self._gained(cluster)

    def _lose(self, cluster: str) -> None:
        if cluster in self._leading:
            self._leading.discard(cluster)
            self._lost(cluster)
