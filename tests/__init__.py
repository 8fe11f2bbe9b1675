"""The test suite; it mirrors the source tree (api, controller, model, application)."""
