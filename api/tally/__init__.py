"""Closing, trustee shares, reconstruction of the sealing key, the tally, results and the
election record (docs/protocol.md "Tally")."""
