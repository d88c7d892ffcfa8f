"""The one write path and each layer's rules (hooks), with history, review and taskings."""
