"""Admin for imports."""
