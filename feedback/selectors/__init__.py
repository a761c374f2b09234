"""Reads for pages: links.py (a customer's link), dashboard.py (every dashboard figure),
contacts.py (the contact queue), simulator.py (replaying a draft policy)."""
