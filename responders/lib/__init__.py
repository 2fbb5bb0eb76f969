"""Building blocks shared by the reference responders, one concern per module, and the frame they run in.

Each block takes its boto3 client as an argument (get one from ``responders.lib.aws.client``), acts
only on the resources it is given, and is safe to repeat: it checks the current state first.

The frame is what every handler does around its runbook: ``settings`` (configuration from the
environment), ``intake`` (admitting an event), ``runbook`` (steps in order, the on-call told once,
pages with the reasons, refusals paged; what was done kept in a Memory from ``idempotency``,
``ledger`` or the case file), ``casework`` (the runbooks that keep a case file) and ``steps`` (steps
several runbooks take).
"""
