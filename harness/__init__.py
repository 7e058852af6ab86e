"""The runner and CLI, the target adapters, the simulators of the national services, the CDA checks."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dcc-recette")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
