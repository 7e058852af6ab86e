"""The reference DCC: a working implementation of the cahier des charges PDE-MES-PPS-CANCER.

It never imports the harness (``rem``, ``rules``, ``harness``, ``scenarios``, ``proofs``).
"""

__version__ = "0.1.0"
