"""Retention of personal data after an election (AVG/GDPR art. 5(1)(e)): the purge."""
