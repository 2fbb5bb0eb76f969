"""Building blocks shared by the reference responders, one concern per module.

Each block takes its boto3 client as an argument (get one from ``responders.lib.aws.client``), acts
only on the resources it is given, and is safe to repeat: it checks the current state first.
"""
