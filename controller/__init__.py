"""Business rules in plain Python: no Flask, dependencies passed in as arguments."""
