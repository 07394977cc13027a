"""Outreach: the follow-up cadence, greetings, replacement reminders, win-back and campaign emails.

Pure domain: what a reminder is, when it is due, and whether it may be sent now (``policy``);
email content from templates in the repository (``templates``); signed one-click unsubscribe
links (``unsubscribe``). Storage, queues and SES live in adapters.
"""
