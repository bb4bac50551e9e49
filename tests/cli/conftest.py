from tests.api.test_tally import closed  # noqa: F401 - the closed-election fixture
