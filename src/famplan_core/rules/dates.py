"""Ages on a date (spec R0.2): re-exported from `famplan_core.model.dates`."""

from famplan_core.model.dates import ages_on, completed_years, latest_birth_for_age

__all__ = ["ages_on", "completed_years", "latest_birth_for_age"]
