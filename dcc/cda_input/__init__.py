"""CDA documents the DCC receives from others (CR-GM…): parsed safely, read into plain values, errors by XPath."""
