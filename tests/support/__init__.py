"""Test support: vector loading, in-memory fakes of the domain's ports, local stack helpers."""
