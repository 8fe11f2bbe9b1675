"""`make bench`: what the boilerplate costs on top of a bare Flask app. A benchmark, not a test."""
