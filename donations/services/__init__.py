"""The domain: plain functions with keyword-only arguments that flush, never commit."""
