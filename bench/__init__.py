"""Benchmarks: `make bench` runs them all and prints one `name: ratio` line per result.

Each benchmark compares two things measured side by side in the same run (e.g. a page
against a bare template in the same server), so the ratio holds across machines where
absolute milliseconds do not.
"""
