"""The reference DCC's HTTP API (FastAPI): the application routes and the test-driver API of docs/test-driver.md."""
