"""Development-only tools: not imported in production and left out of the production image."""
