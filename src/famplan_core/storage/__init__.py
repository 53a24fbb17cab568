"""famplan_core.storage."""
