"""Process-wide services: the database client, logging, the request log and metrics."""
