from tests.helpers.collector import collector  # noqa: F401 — the shared fixture, registered here
