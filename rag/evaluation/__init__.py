"""The eval harness: hand-written questions, deterministic metrics, reports."""
