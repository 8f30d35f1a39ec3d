"""Trust: consent to share (an "information bank" ledger), share links, erasure and retention.
The access log itself is records.audit."""
