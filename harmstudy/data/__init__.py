"""The release, prompt sets and student annotation sheets: what the study reads."""
