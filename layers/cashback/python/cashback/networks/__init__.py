"""Partner networks as sources of truth: their APIs (statistics of actions, lost orders) and the daily
reconciliation with their statistics."""
