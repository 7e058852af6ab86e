"""Renderings of FRCP and PPS for people: the PDF (national presentation, INS datamatrix, PDF/A-1b) and HTML."""
