"""Suggestions: rules and a model learned from the project's own labels."""
