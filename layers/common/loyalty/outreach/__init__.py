"""Outreach: the follow-up cadence, greetings, replacement reminders, win-back and campaign emails.

- domain: what a reminder is, when it is due and whether it may be sent now (``policy``); which
  reminders an event plans (``plans``); email content from the templates in ``templates/``
  (``templates``, ``mime``); signed one-click unsubscribe links (``unsubscribe``);
- use cases: ``planning`` (plan, dispatch, fan out), ``sending`` (decide, claim, send), ``content``
  (compose, preview), ``admin`` (settings, campaigns, send logs, consent);
- ports: ``store`` (the Outreach table, the queues, the mail service); adapters: ``dynamodb``,
  ``messaging`` (SQS, SES, Secrets Manager); ``config``: the environment; ``http``: the models.
"""
