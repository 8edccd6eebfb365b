"""Custom actions of the Delhi government assistant (rasa-sdk action server)."""
