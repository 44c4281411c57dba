"""PDF documents (receipts, statements, reports): the only package that imports reportlab.

Everything here takes plain dataclasses from ``donations.pdf.content`` and
returns bytes; no ORM object or request reaches this code.
"""
