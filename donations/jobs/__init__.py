"""Background jobs: the tasks the queue runs, and how their runs are tracked."""
