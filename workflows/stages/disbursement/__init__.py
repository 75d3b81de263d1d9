"""拨付 (disbursement): finance issues the award letter and records the payment from the call's
budget, never below zero and never twice for one designation."""
