"""Authentication and authorisation of the reference DCC (cahier des charges 2.2, 2.3.1): Pro Santé Connect,
identifiant + mot de passe + TOTP, the contextual call from a hospital record; sessions with the CGU gate; roles
and care teams. Importing the package registers its faults (``dcc.faults``)."""

from dcc.auth import access, accounts, contextual, local, psc, roles, sessions  # noqa: F401 - registers faults
