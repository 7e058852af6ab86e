"""The test-driver API (which creates data and reconfigures the DCC without authentication) is served only by a
test instance: off unless asked for."""

from dcc.api.app import create_app


def test_driver_routes_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.delenv("DCC_TEST_DRIVER", raising=False)
    production = set(create_app(f"sqlite:///{tmp_path / 'a.sqlite3'}").openapi()["paths"])
    assert production and not any(p.startswith("/driver") for p in production)
    test = set(create_app(f"sqlite:///{tmp_path / 'b.sqlite3'}", test_driver=True).openapi()["paths"])
    assert "/driver/patients" in test and "/driver/configuration" in test
    monkeypatch.setenv("DCC_TEST_DRIVER", "1")
    assert "/driver/events" in create_app(f"sqlite:///{tmp_path / 'c.sqlite3'}").openapi()["paths"]
