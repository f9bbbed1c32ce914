"""Partner networks as sources of truth: the daily reconciliation with their statistics."""
