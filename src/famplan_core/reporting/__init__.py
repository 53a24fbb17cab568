"""famplan_core.reporting."""
