"""Writing the simulation's CSV files, one per import kind, row by row (constant memory)."""

import csv
from pathlib import Path

from .world import COLUMNS, Simulation


def write_kind(simulation: Simulation, kind: str, directory: Path) -> tuple[Path, int]:
    """Write `<directory>/<kind>.csv` and return its path and number of data rows."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{kind}.csv"
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS[kind], lineterminator="\n")
        writer.writeheader()
        for row in simulation.rows(kind):
            writer.writerow(row)
            count += 1
    return path, count
