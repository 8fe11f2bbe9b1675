"""Migrations used by the runner's tests: each counts its runs in a `migration_runs` collection."""
