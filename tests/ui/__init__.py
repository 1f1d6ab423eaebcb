"""UI tests: Pilot-driven screens, snapshots, and the UI's plain logic."""
