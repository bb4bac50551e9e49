"""The audit trail: every decision of the committee, the operator and the scheduler."""
