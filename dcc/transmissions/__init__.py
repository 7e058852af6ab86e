"""Transmissions of the reference DCC: routing (Figure 10), the outbox and its worker, MSSanté, DMP, FRCP exchange."""
