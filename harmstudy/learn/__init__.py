"""Judges learned from human labels: features (TF-IDF, embeddings of (prompt, response) kept in the shared
store), logistic judges out of fold by student sheet, distillation from the paper's API judges, pooling with
PyRIT's labels, the learned run, and the learning curve (``judges``; ``embeddings``)."""
