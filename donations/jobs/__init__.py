"""Background work: the tasks the queue runs, how their runs are tracked, and the batch runners.

Jobs sit between the CLI and blueprints, which start them, and the services, whose domain
functions they drive; each job (or batch of one) is the commit point of its work.
"""
