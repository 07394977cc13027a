"""Identity: who a token says the caller is (members, staff and admin people, the till, partners), the
groups a person keeps without MFA, and the contact details Cognito verified."""
