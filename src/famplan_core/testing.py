"""Pytest plugin for plugin authors: fixtures and contract suites."""
