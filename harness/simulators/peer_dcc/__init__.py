"""Simulator of a peer DCC of another region (FRCP exchange, 2.1.4)."""
