"""Simulators of the national services (INSi, DMP, MSSanté, PSC, Annuaire Santé, peer DCC, hospital record).

They never import ``dcc``: they speak the protocols, nothing else.
"""
