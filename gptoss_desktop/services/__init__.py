"""QtCore services: workers on threads wrapping core objects, talking to the UI through signals."""
