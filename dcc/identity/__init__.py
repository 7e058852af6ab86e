"""Identity vigilance (cahier des charges 2.3.1–2.3.2, RNIV): INS matricule, identity statuses and their rules."""
