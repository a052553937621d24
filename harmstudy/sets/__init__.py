"""Single responses scored by people: a user's labelled set and PyRIT's sets, every judge on them
(``external``), the learned judges' scores on PyRIT's sets stored by content (``learned_scores``), and what a
judge learned from against where it is tested (``transfer``: the transfer matrix)."""
