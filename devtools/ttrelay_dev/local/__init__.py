"""The local stack (`make dev`): emulations that stand in for AWS and TikTok on a machine without Docker."""
