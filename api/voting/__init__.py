"""Voting: election keys, anonymous credential issuance, casting, receipts and turnout."""
