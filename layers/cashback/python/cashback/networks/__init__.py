"""Partner networks' own APIs, as the platform reads them: statistics of actions and lost-order claims."""
