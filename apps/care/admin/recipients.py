"""Admin pages for recipients."""
