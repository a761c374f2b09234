"""PostgreSQL, as Django's backend, with a health check that needs no round trip when the
answer is plain.

With CONN_HEALTH_CHECKS, Django asks a kept connection `SELECT 1` before a request first
uses it, so that a database restart costs no 500. That question is one round trip on
every request. But a server that ends a connection (a restart, a shutdown, an idle
timeout, pg_terminate_backend) says so on the socket first: it sends its last message
and closes. So a connection with nothing to read has not been hung up on, and is taken
as it is; one with something waiting (the goodbye, or a notice) is asked as before.
A peer that vanished without a word (a dead network) is not caught by either check:
`SELECT 1` would only have waited for the TCP timeout.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            waiting, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return not waiting or super().is_usable()
