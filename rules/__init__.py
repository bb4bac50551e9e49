"""Pure election-rules core (WOR): seats, eligibility, ballots, counting, apportionment, lot.

Imports neither FastAPI nor a database, so the server, the CLI and the verifier share it.
All arithmetic uses exact ``fractions.Fraction``; every result carries the steps that led to it.
"""
