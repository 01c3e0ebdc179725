"""Admin pages for requests."""
