"""Helpers shared by the test suites: the local stack, builders of test data."""
