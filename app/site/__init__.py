"""What is served besides the API: health and metrics, the API docs, and the human-readable pages."""
