"""The runner and CLI, the target adapters, the simulators of the national services, the CDA checks."""
