-- Sign-in limits count in sign_in_strikes (0007), whose rows go after a quiet day. The
-- older per-attempt log was never read again and grew with every checked password: it
-- goes, with the emails and addresses it kept.

DROP TABLE login_attempts;
