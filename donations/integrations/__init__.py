"""Adapters to the world outside: they take and return plain data."""
