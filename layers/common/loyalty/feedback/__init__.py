"""Feedback: members' complaints, suggestions and praise; staff replies, closing, and the unanswered-complaint alert."""
