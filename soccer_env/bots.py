"""Scripted bots (placeholder: filled in below)."""
