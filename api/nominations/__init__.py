"""The nomination campaign (digitale OR-nominatie): voters nominate colleagues; nobody, not even
the committee, can read back who nominated whom through the API."""
