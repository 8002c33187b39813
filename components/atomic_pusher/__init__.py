"""A Pusher whose versions appear in the serving folder complete or not at all."""
