"""Every signal family, registered as one set: importing this package installs them as
the default registry (:func:`~accountrisk.features.registry.install`).

Adding a family: one module (or small package) here holding its stage SQL, its features
and its evidence collector, whose ``FAMILY`` is added to :data:`FAMILIES`, plus its test
under ``tests/signals/`` (see ``docs/adding-a-signal.md``). The order of :data:`FAMILIES`
(and of the imports) does not matter: stages wait for the stage objects they name, and the
registry orders them itself.
"""

from ..registry import install
from . import (
    access,
    base,
    client_side,
    identity_graph,
    neighbours,
    payout,
    portfolio,
    takeover,
    working_hours,
)

FAMILIES = (
    access.FAMILY,
    base.FAMILY,
    client_side.FAMILY,
    identity_graph.FAMILY,
    neighbours.FAMILY,
    payout.FAMILY,
    portfolio.FAMILY,
    takeover.FAMILY,
    working_hours.FAMILY,
)

REGISTRY = install(FAMILIES)
