"""famplan_core.rules."""
