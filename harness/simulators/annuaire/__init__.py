"""Simulator of the Annuaire Santé: FHIR API and public extraction files."""
