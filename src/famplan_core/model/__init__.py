"""famplan_core.model."""
