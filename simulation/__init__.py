"""Demo data: a simulated SaaS company, written as the import's CSV files.

`Simulation(SimulationConfig(...))` builds the company in memory (pure and deterministic
for a seed); `Simulation.rows(kind)` yields its CSV rows in spec/import.md's columns;
`write_kind` streams them to a file; `manage.py simulate` writes every kind and imports
it through `importing.services.import_and_announce`, the path real files take.

Modules: `catalog` (segments, plans, prices, countries, event types), `texts` (names,
ticket subjects, German and English comments), `drivers` (the behaviour model: how latent
health shows in the data and the logistic churn on observable drivers, documented
there), `profile` (a customer at sign-up), `lifecycle` (subscriptions month by month),
`activity` (a month's usage plan, tickets and survey answers), `usage` (events, lazily),
`company` (leads and costs), `world` (configuration and rows), `csvfiles` (writing),
`loading` (CSM users, flush).

Churn in short (see `drivers`): each paying month ends with a churn draw of probability
``logistic(−5.6 + 3.0·low_usage + 1.2·detractor + 0.6·unresolved_tickets)``; the drivers
are observable, and a customer's latent health (drawn at sign-up) moves all three.
"""

from simulation.csvfiles import write_kind
from simulation.world import COLUMNS, KINDS, Simulation, SimulationConfig

# `loading` (the database side) is left out on purpose: generation works without Django.
__all__ = ["COLUMNS", "KINDS", "Simulation", "SimulationConfig", "write_kind"]
