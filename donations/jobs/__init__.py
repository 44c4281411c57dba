"""Batch runners: long jobs that commit as they go (the year-end run, the mail worker).

Jobs sit between the CLI and blueprints, which start them, and the services,
whose domain functions they drive.
"""
