"""MSSanté simulator: SMTP receiving MTA (``server.MssSimulator``), IHE XDM checks (``message``), DSN/MDN
acknowledgements (``acks``), mailbox types (``mailboxes``), the CDA header reader shared with the peer DCC and the
hospital record (``cda``)."""
