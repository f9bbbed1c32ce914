"""The cashback programme's shared code: domain rules, data access and the web edge."""
