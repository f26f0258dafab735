"""National cyber alerts."""
