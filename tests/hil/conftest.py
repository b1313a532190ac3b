"""On-board tests use the fixtures of codegen.hil.pytest_plugin, registered in tests/conftest.py."""
