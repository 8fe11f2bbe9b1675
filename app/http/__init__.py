"""The web toolkit the API and the site share: errors, validation, OpenAPI, security, middleware."""
