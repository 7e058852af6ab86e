"""DMP simulator (IHE XDS.b over SOAP 1.2 with MTOM/XOP: ITI-41, ITI-18, ITI-43, deletion)."""

from harness.simulators.dmp.server import DmpSimulator

__all__ = ["DmpSimulator"]
