"""Single responses scored by people: a user's labelled set and PyRIT's sets, every judge on them
(``external``), and what a judge learned from against where it is tested (``transfer``: the transfer matrix)."""
