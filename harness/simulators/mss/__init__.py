"""MSSanté simulator: SMTP receiving MTA, IHE XDM checks, DSN/MDN acknowledgements."""

from harness.simulators.mss.mailboxes import MailboxType
from harness.simulators.mss.server import Delivered, MssSimulator

__all__ = ["Delivered", "MailboxType", "MssSimulator"]
