"""Request and response bodies of the public contract (API.md), and their mapping from the domain."""
