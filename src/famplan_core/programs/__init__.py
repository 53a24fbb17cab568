"""famplan_core.programs."""
