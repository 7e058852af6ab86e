"""Test-driver operations per area of the reference DCC, registered with ``dcc.driver.operation``."""
