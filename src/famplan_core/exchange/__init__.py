"""famplan_core.exchange."""
