"""The one ranking representation, and the parsers that read human cells and judge answers into it."""
