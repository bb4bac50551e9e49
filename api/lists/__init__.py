"""Candidate lists (WOR art. 9): union representative accounts, union and free lists, consent,
committee validation and publication to the log; consultation questions publication."""
