"""Test tooling shared across test areas (never imported by product code)."""
