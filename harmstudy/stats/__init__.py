"""Statistics: agreement with people (Q2), differences between small models (Q1), the study tables."""
