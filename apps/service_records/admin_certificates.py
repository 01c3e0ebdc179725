"""Admin for certificates and issuers."""
