"""The data layer: it knows MongoDB and nothing of HTTP."""
